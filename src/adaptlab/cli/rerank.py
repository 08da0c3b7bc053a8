"""`adaptlab finetune-reranker`: train a cross-encoder reranker from the MiniLM weights on corpus pairs;
and the `--rerank` options that `search` and `rag` share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from adaptlab.cli.common import ConfigOpt, TrackingOpt, WorkspaceOpt, console, err_console, session_config
from adaptlab.cli.main import app
from adaptlab.errors import AdaptlabError
from adaptlab.retrieval.rerank import DEFAULT_TOP_N
from adaptlab.train.reranker_config import RerankerConfig

RerankOpt = Annotated[
    Optional[str],
    typer.Option(
        "--rerank",
        help="Re-sort the top hits with a reranker: auto (newest trained cross-encoder, else "
        "bi-encoder rescoring), a reranker name or folder, bi (the search model's cosine) or bi:MODEL.",
        show_default=False,
    ),
]
RerankTopOpt = Annotated[int, typer.Option("--rerank-top", help="Hits re-scored by the reranker.")]

_F = RerankerConfig.model_fields


def _help(field: str) -> str:
    return _F[field].description or ""


@app.command("finetune-reranker")
def finetune_reranker_command(
    base: Annotated[Optional[str], typer.Option("--base", help=_help("base"))] = None,
    miner: Annotated[Optional[str], typer.Option("--miner", help=_help("miner"))] = None,
    pairs: Annotated[
        Optional[list[str]], typer.Option("--pairs", help=_help("pairs") + " Repeatable.")
    ] = None,
    negatives: Annotated[Optional[int], typer.Option("--negatives", help=_help("negatives"))] = None,
    max_pairs: Annotated[Optional[int], typer.Option("--max-pairs", help=_help("max_pairs"))] = None,
    epochs: Annotated[Optional[float], typer.Option("--epochs", help=_help("epochs"))] = None,
    max_steps: Annotated[Optional[int], typer.Option("--max-steps", help=_help("max_steps"))] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help=_help("batch_size"))] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help=_help("learning_rate"))] = None,
    max_length: Annotated[Optional[int], typer.Option("--max-length", help=_help("max_length"))] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help=_help("output"))] = None,
    json_out: Annotated[
        Optional[Path], typer.Option("--json", help="Also write the report as JSON here.")
    ] = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Train a cross-encoder reranker (MiniLM weights, hard negatives mined from the corpus) and register it."""
    from pydantic import ValidationError

    from adaptlab.pipeline import Session
    from adaptlab.train.reranker_trainer import train_reranker

    cfg = session_config(config)
    section = cfg.finetune.reranker if cfg.finetune and cfg.finetune.reranker else RerankerConfig()
    flags = {
        "base": base,
        "miner": miner,
        "pairs": pairs,
        "negatives": negatives,
        "max_pairs": max_pairs,
        "epochs": epochs,
        "max_steps": max_steps,
        "batch_size": batch_size,
        "learning_rate": lr,
        "max_length": max_length,
        "output": output,
    }
    try:
        rc = RerankerConfig.model_validate(
            {**section.model_dump(), **{k: v for k, v in flags.items() if v is not None}}
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise AdaptlabError(f"--{str(problem['loc'][0]).replace('_', '-')}: {problem['msg']}") from None
    with Session.open(workspace, cfg, tracking_uri=tracking_uri, console=err_console) as session:
        report = train_reranker(session, rc)
    console.print(
        f"saved {report.name} → {report.path} ({report.train_queries} queries, {report.labelled_pairs} "
        f"labelled pairs, {report.steps} steps, {report.train_seconds:.0f} s); use it with "
        f"--rerank {report.name}"
    )
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report.as_dict(), indent=2, default=str), encoding="utf-8")


__all__ = ["DEFAULT_TOP_N", "RerankOpt", "RerankTopOpt"]
