"""A whole experiment from one config: ingest → embed each model → evaluate → fine-tune → example searches.

`adaptlab run config.yaml` and `adaptlab demo` both call `run_experiment`; the demo's config is
`DEMO_CONFIG` (mirrored by configs/demo.yaml).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from adaptlab.config import ExperimentConfig, parse_config
from adaptlab.corpus.ingest import IngestReport
from adaptlab.eval.retrieval_eval import RetrievalResult
from adaptlab.jsonio import write_json
from adaptlab.pipeline import Session, embed, evaluate, ingest, search
from adaptlab.retrieval.dense import SearchHit
from adaptlab.vectors.embed_stage import EmbedReport

if TYPE_CHECKING:
    from adaptlab.train.finetune_stage import FinetuneReport

DEMO_CONFIG: dict = {
    "name": "demo",
    "corpus": {
        "name": "energy",
        "paths": ["${data}/gesetze", "${data}/oeo", "${data}/mastr/bnetza_mastr_*_raw.csv"],
        "languages": ["de", "en"],
    },
    "chunking": {"unit": "tokens", "model": "minilm", "overlap": 20},
    "models": ["minilm", "use-multilingual"],
    "vectors": {"index_type": "HNSW", "metric": "COSINE", "params": {"M": 16, "efConstruction": 200},
                "search_params": {"ef": 128}},
    "eval": {"datasets": ["xquad"], "k": 100},
    "search": {
        "queries": [
            "Wer muss Erzeugungsanlagen an das Netz anschließen?",
            "What is a wind farm?",
            "Nettonennleistung einer Solaranlage",
        ],
        "k": 3,
    },
}


def demo_config() -> ExperimentConfig:
    return parse_config(DEMO_CONFIG, origin="demo config")


@dataclass
class ExperimentSummary:
    ingest: IngestReport | None = None
    embeds: list[EmbedReport] = field(default_factory=list)
    results: list[RetrievalResult] = field(default_factory=list)
    searches: dict[str, dict[str, list[SearchHit]]] = field(default_factory=dict)  # model → query → hits
    finetune: FinetuneReport | None = None
    seconds: float = 0.0
    results_path: Path | None = None


def run_experiment(
    cfg: ExperimentConfig,
    workspace: str | Path | None = None,
    milvus_uri: str | None = None,
    tracking_uri: str | None = None,
    console: Console | None = None,
) -> ExperimentSummary:
    start = time.perf_counter()
    summary = ExperimentSummary()
    with Session.open(workspace, cfg, milvus_uri, tracking_uri, console) as session:
        say = session.console.print
        stages = [bool(cfg.corpus.paths), bool(cfg.models), bool(cfg.eval.datasets), cfg.finetune is not None,
                  bool(cfg.search.queries and cfg.models)]
        total = sum(stages)
        numbers = iter(range(1, total + 1))

        def stage(name: str, detail: str = "") -> None:
            say(f"[bold]{next(numbers)}/{total} {name}[/bold] {detail}".rstrip())

        if cfg.corpus.paths:
            stage("ingest", ", ".join(cfg.corpus.paths))
            summary.ingest = ingest(session, cfg.corpus.paths, prune=cfg.corpus.prune)
            for skipped in summary.ingest.skipped:
                say(f"[yellow]skipped[/yellow] {skipped.path}: {skipped.reason}", highlight=False)
        if cfg.models:
            stage("embed", f"with {', '.join(cfg.models)}")
            for model in cfg.models:
                summary.embeds.append(embed(session, model))
        if cfg.eval.datasets:
            stage("evaluate", f"on {', '.join(cfg.eval.datasets)}")
            summary.results = evaluate(session, cfg.models, cfg.eval.datasets, k=cfg.eval.k)
        if cfg.finetune is not None:
            stage("fine-tune", f"{cfg.finetune.base} ({cfg.finetune.method})")
            summary.finetune = session.finetune(cfg.finetune)
        if cfg.search.queries and cfg.models:
            stage("example searches")
            for model in cfg.models:
                hits = search(session, model, cfg.search.queries, k=cfg.search.k, filter=cfg.search.filter)
                summary.searches[model] = dict(zip(cfg.search.queries, hits))
        summary.seconds = time.perf_counter() - start
        summary.results_path = write_json(
            {
                "config": cfg.model_dump(),
                "ingest": summary.ingest.as_dict() if summary.ingest else None,
                "embed": [{**e.__dict__, "chunks_per_second": e.chunks_per_second} for e in summary.embeds],
                "eval": [r.as_dict() for r in summary.results],
                "finetune": summary.finetune.as_dict() if summary.finetune else None,
                "seconds": summary.seconds,
            },
            session.workspace.results_dir / f"experiment-{cfg.name}.json",
        )
    return summary
