"""Cross-lingual bridge into MiniLM's space (issue 3, set 3): German queries against English MiniLM vectors.

MiniLM's English WordPiece vocabulary is what keeps sentence-level distillation from teaching it German
(docs/benchmarks.md, "Cross-lingual alignment of MiniLM"). This measures the shipped alternative,
`adaptlab finetune --method bridge`. MiniLM and its stored document vectors stay as they are, and so
does every English query. A German query is embedded by multilingual e5-small-trainable, mapped linearly
into MiniLM's space and blended with MiniLM's own vector of it. The ridge map is fitted on Tatoeba, STSb
train and OEO train-class term pairs plus English-only sentences (LLM demo requests and answers, OEO
train definitions); the blend weight is chosen on held-out pairs. No XQuAD text is used for fitting.

Ablations, from the same cached vectors: the map alone (blend weight 0), and English queries sent
through the map too (no language routing).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/cross_lingual_bridge.py   # ~20 min on 2 cores
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from adaptlab.compress.vector_cache import VectorCache  # noqa: E402
from adaptlab.config import ExperimentConfig  # noqa: E402
from adaptlab.eval.retrieval_eval import resolve_datasets  # noqa: E402
from adaptlab.pipeline import Session  # noqa: E402
from adaptlab.train.bridge import BridgeEmbedder  # noqa: E402
from adaptlab.train.evaluate import evaluate_cached  # noqa: E402
from adaptlab.train.finetune_config import FinetuneConfig  # noqa: E402
from adaptlab.train.finetune_stage import finetune  # noqa: E402

SETS = ["xquad-de-en", "xquad-en-en"]
CONFIG = FinetuneConfig(
    base="minilm", method="bridge", bridge_encoder="e5-small-trainable",
    parallel_sources=["tatoeba", "stsb", "oeo"], english_sources=["instructions", "responses", "oeo-definitions"],
    eval=SETS, compare=["use-multilingual", "e5-small-trainable"], output="minilm-de-bridge",
)


def ablations(session: Session, bridge: BridgeEmbedder) -> dict[str, dict[str, float]]:
    """nDCG@10 of variants of the fitted bridge, on the vectors the finetune run cached."""
    variants = {
        "map only (blend weight 0)": dataclasses.replace(bridge.bridge, native_weight=0.0),
        "English queries through the map too": dataclasses.replace(bridge.bridge, native_languages=[]),
    }
    cache = VectorCache(session.workspace.vector_cache)
    return {
        label: {ds.name: evaluate_cached(BridgeEmbedder(bridge.encoder, bridge.target, variant, name=label), ds,
                                         cache).metrics["ndcg@10"] for ds in resolve_datasets(SETS)}
        for label, variant in variants.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/adaptlab-bench/bridge"), help="Scratch workspace.")
    parser.add_argument("--out", type=Path, default=Path("docs/results/cross_lingual_bridge.json"))
    args = parser.parse_args()
    start = time.perf_counter()
    with Session.open(args.root, ExperimentConfig(), tracking_uri=None) as session:
        report = finetune(session, CONFIG)
        bridge = session.embedder(report.name)
        assert isinstance(bridge, BridgeEmbedder)
        extra = ablations(session, bridge)
    scores = {(s.result.dataset, s.role, s.result.model): s.result.metrics["ndcg@10"] for s in report.scores}
    before_en = scores["xquad-en-en", "before", "minilm"]
    after = {ds: scores[ds, "after", report.name] for ds in SETS}
    results: dict[str, Any] = {
        "config": CONFIG.model_dump(),
        "scores": [{"dataset": d, "role": r, "model": m, "ndcg@10": v} for (d, r, m), v in scores.items()],
        "de_en_share_of_minilm_en_en": after["xquad-de-en"] / before_en,
        "en_en_change": after["xquad-en-en"] / before_en - 1,
        "bridge": json.loads((report.path / "bridge.json").read_text(encoding="utf-8")),
        "ablations": extra,
        "fit_seconds": report.train_seconds, "embed_seconds": report.prepare_seconds,
        "wall_seconds": time.perf_counter() - start,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "date": time.strftime("%Y-%m-%d"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps({k: results[k] for k in ("de_en_share_of_minilm_en_en", "en_en_change", "ablations")}, indent=2))


if __name__ == "__main__":
    main()
