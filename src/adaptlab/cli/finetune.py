"""`adaptlab finetune`: adapt an embedding model to the corpus and show the before/after table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from adaptlab.cli.common import ConfigOpt, TrackingOpt, WorkspaceOpt, console, err_console, session_config
from adaptlab.cli.main import app
from adaptlab.errors import AdaptlabError
from adaptlab.eval.metrics import PRIMARY_METRIC
from adaptlab.train.finetune_config import METHODS, OBJECTIVES, FinetuneConfig

_F = FinetuneConfig.model_fields


def _help(field: str) -> str:
    return _F[field].description or ""


def finetune_table(scores: list[Any], metric: str = PRIMARY_METRIC, window_weight: float | None = None) -> Table:
    """Datasets down; BM25, off-the-shelf models, the base before and the result after across."""
    columns = list(dict.fromkeys((s.role, s.result.model) for s in scores))
    by_key = {(s.result.dataset, s.role, s.result.model): s.result.metrics.get(metric) for s in scores}
    scoring = "" if window_weight is None else f", long documents scored from windows (best weight {window_weight:g})"
    table = Table(title=f"{metric} before / after (exact search{scoring}, held-out)")
    table.add_column("dataset")
    for role, model in columns:
        table.add_column(f"{model}\n({role})" if role != "bm25" else "bm25", justify="right")
    table.add_column("after vs best other", justify="right")
    for dataset in dict.fromkeys(s.result.dataset for s in scores):
        values = [by_key.get((dataset, role, model)) for role, model in columns]
        after = [v for (role, _), v in zip(columns, values) if role.startswith("after") and v is not None]
        others = [v for (role, _), v in zip(columns, values) if not role.startswith("after") and v is not None]
        gain = f"{(max(after) / max(others) - 1) * 100:+.1f} %" if after and others and max(others) > 0 else "–"
        table.add_row(dataset, *["–" if v is None else f"{v:.3f}" for v in values], gain)
    return table


@app.command("finetune")
def finetune_command(
    base: Annotated[Optional[str], typer.Option("--base", help=_help("base") + " (minilm, e5-small-trainable, e5-small, use-multilingual, a folder)")] = None,
    method: Annotated[Optional[str], typer.Option("--method", help=f"{'|'.join(METHODS)}. " + _help("method"))] = None,
    objective: Annotated[Optional[str], typer.Option("--objective", help=f"{'|'.join(OBJECTIVES)}. " + _help("objective"))] = None,
    pairs: Annotated[Optional[str], typer.Option("--pairs", help=_help("pairs"))] = None,
    eval_sets: Annotated[Optional[list[str]], typer.Option("--eval", help=_help("eval") + " Repeatable (laws-heading, oeo-de-en, xquad-de-en, a BEIR folder).")] = None,
    compare: Annotated[Optional[list[str]], typer.Option("--compare", help=_help("compare") + " Repeatable.")] = None,
    epochs: Annotated[Optional[float], typer.Option("--epochs", help=_help("epochs"))] = None,
    max_steps: Annotated[Optional[int], typer.Option("--max-steps", help=_help("max_steps"))] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help=_help("batch_size"))] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help=_help("learning_rate"))] = None,
    max_pairs: Annotated[Optional[int], typer.Option("--max-pairs", help=_help("max_pairs"))] = None,
    max_seq_length: Annotated[Optional[int], typer.Option("--max-seq-length", help=_help("max_seq_length"))] = None,
    teacher: Annotated[Optional[str], typer.Option("--teacher", help=_help("teacher"))] = None,
    bridge_encoder: Annotated[Optional[str], typer.Option("--bridge-encoder", help=_help("bridge_encoder"))] = None,
    hard_negatives: Annotated[Optional[int], typer.Option("--hard-negatives", help=_help("hard_negatives"))] = None,
    batches: Annotated[Optional[str], typer.Option("--batches", help="random|document. " + _help("batches"))] = None,
    pretrain: Annotated[Optional[str], typer.Option("--pretrain", help="tsdae|mlm. " + _help("pretrain"))] = None,
    pretrain_sentences: Annotated[Optional[int], typer.Option("--pretrain-sentences", help=_help("pretrain_sentences"))] = None,
    pretrain_epochs: Annotated[Optional[float], typer.Option("--pretrain-epochs", help=_help("pretrain_epochs"))] = None,
    query_writer: Annotated[Optional[str], typer.Option("--query-writer", help=_help("query_writer"))] = None,
    synthetic_queries: Annotated[Optional[int], typer.Option("--synthetic-queries", help=_help("synthetic_queries"))] = None,
    freeze_embeddings: Annotated[Optional[bool], typer.Option("--freeze-embeddings/--train-embeddings", help=_help("freeze_embeddings"))] = None,
    adapter_kind: Annotated[Optional[str], typer.Option("--adapter-kind", help=_help("adapter_kind"))] = None,
    adapter_rank: Annotated[Optional[int], typer.Option("--adapter-rank", help=_help("adapter_rank"))] = None,
    adapter_side: Annotated[Optional[str], typer.Option("--adapter-side", help=_help("adapter_side"))] = None,
    adapter_epochs: Annotated[Optional[int], typer.Option("--adapter-epochs", help=_help("adapter_epochs"))] = None,
    ensemble: Annotated[Optional[list[str]], typer.Option("--ensemble", help=_help("ensemble") + " Repeatable.")] = None,
    ensemble_weights: Annotated[Optional[str], typer.Option(
        "--ensemble-weights", help="auto, or one comma-separated weight per model (base first). "
        + _help("ensemble_weights"))] = None,
    window_weight: Annotated[Optional[float], typer.Option("--window-weight", help=_help("window_weight"))] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help=_help("output"))] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the report as JSON here.")] = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Fine-tune a model (or fit an adapter on a frozen one, or bridge another language into it) and compare
    it with the zoo on held-out sets."""
    from pydantic import ValidationError

    from adaptlab.pipeline import Session
    from adaptlab.train.finetune_stage import finetune

    cfg = session_config(config)
    flags = {"base": base, "method": method, "objective": objective, "pairs": pairs, "eval": eval_sets,
             "compare": compare, "epochs": epochs, "max_steps": max_steps, "batch_size": batch_size,
             "learning_rate": lr, "max_pairs": max_pairs, "max_seq_length": max_seq_length, "teacher": teacher,
             "bridge_encoder": bridge_encoder, "hard_negatives": hard_negatives, "batches": batches,
             "pretrain": pretrain, "pretrain_sentences": pretrain_sentences, "pretrain_epochs": pretrain_epochs,
             "query_writer": query_writer, "synthetic_queries": synthetic_queries,
             "freeze_embeddings": freeze_embeddings, "adapter_kind": adapter_kind, "adapter_rank": adapter_rank,
             "adapter_side": adapter_side, "adapter_epochs": adapter_epochs, "ensemble": ensemble,
             "ensemble_weights": _ensemble_weights(ensemble_weights), "window_weight": window_weight,
             "output": output}
    merged = {**(cfg.finetune.model_dump() if cfg.finetune else {}), **{k: v for k, v in flags.items() if v is not None}}
    try:
        ft = FinetuneConfig.model_validate(merged)
    except ValidationError as exc:
        problem = exc.errors()[0]
        message = str(problem["msg"]).removeprefix("Value error, ")
        if not problem["loc"]:  # a check across fields names its own field
            raise AdaptlabError(message) from None
        raise AdaptlabError(f"--{str(problem['loc'][0]).replace('_', '-')}: {message}") from None
    with Session.open(workspace, cfg, tracking_uri=tracking_uri, console=err_console) as session:
        report = finetune(session, ft)
    if report.scores:
        console.print(finetune_table(report.scores, window_weight=ft.window_weight))
    console.print(f"saved {report.name} → {report.path} ({report.train_pairs} pairs, {report.train_seconds:.0f} s); "
                  f"use it with --model {report.name}")
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report.as_dict(), indent=2, default=str), encoding="utf-8")


def _ensemble_weights(text: str | None) -> str | list[float] | None:
    """`--ensemble-weights auto` or `1,0.5`: the value the config field takes."""
    if text is None:
        return None
    if text.strip() == "auto":
        return "auto"
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise AdaptlabError(f"--ensemble-weights: '{text}' is neither 'auto' nor comma-separated numbers "
                            "(e.g. 1,0.5)") from None
