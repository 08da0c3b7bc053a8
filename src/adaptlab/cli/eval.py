"""`adaptlab eval`: retrieval quality on BEIR sets; the XQuAD converter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from adaptlab.cli.common import ConfigOpt, TrackingOpt, WorkspaceOpt, console, err_console, session_config
from adaptlab.cli.main import app
from adaptlab.eval.metrics import METRICS, PRIMARY_METRIC
from adaptlab.eval.retrieval_eval import RetrievalResult
from adaptlab.pipeline import Session, evaluate

eval_app = typer.Typer(help="Evaluate retrieval quality (BEIR format) and convert datasets.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


def comparison_table(results: list[RetrievalResult], metric: str = PRIMARY_METRIC) -> Table:
    """Datasets down, models across: the one table a user compares models with."""
    models = list(dict.fromkeys(r.model for r in results))
    datasets = list(dict.fromkeys(r.dataset for r in results))
    by_key = {(r.dataset, r.model): r.metrics.get(metric) for r in results}
    table = Table(title=f"{metric} (exact search)")
    table.add_column("dataset")
    for model in models:
        table.add_column(model, justify="right")
    for dataset in datasets:
        scores = [by_key.get((dataset, m)) for m in models]
        best = max((s for s in scores if s is not None), default=None)
        cells = [
            "–" if s is None else (f"[bold green]{s:.3f}[/bold green]" if s == best and len(models) > 1 else f"{s:.3f}")
            for s in scores
        ]
        table.add_row(dataset, *cells)
    return table


def detail_table(results: list[RetrievalResult]) -> Table:
    table = Table(title="retrieval metrics")
    table.add_column("model")
    table.add_column("dataset")
    for metric in METRICS:
        table.add_column(metric, justify="right")
    table.add_column("s", justify="right")
    for r in results:
        table.add_row(r.model, r.dataset, *[f"{r.metrics[m]:.3f}" for m in METRICS], f"{r.seconds:.1f}")
    return table


@eval_app.command("retrieval")
def retrieval_command(
    datasets: Annotated[list[str], typer.Argument(help="BEIR folders (corpus.jsonl, queries.jsonl, qrels/test.tsv), 'xquad' for all four XQuAD sets, 'xquad-de-en' etc., or 'laws-heading' (German law headings → sections; -all, -train).")],
    model: Annotated[list[str], typer.Option("--model", "-m", help="Zoo name or local folder (repeatable).")] = ["minilm"],  # noqa: B006
    k: Annotated[int, typer.Option("-k", help="Ranking depth the metrics see.")] = 100,
    retriever: Annotated[str, typer.Option("--retriever", help="dense (each --model), bm25, or hybrid (BM25 fused with each --model).")] = "dense",
    fusion: Annotated[str, typer.Option("--fusion", help="How hybrid fuses: wsum (min-max scores, 0.5/0.5; measured best) or rrf (reciprocal rank, k=60).")] = "wsum",
    window_weight: Annotated[Optional[float], typer.Option("--window-weight", help="Score documents longer than the model's token limit from windows of that limit: (1 − w) · lead window + w · best window (0.5 measured best on the held-out laws); default: truncate.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Also write the results JSON here.")] = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """nDCG@10, MRR@10, Recall@1/10/100 and MAP@100 (ranx) of each model on each set, with exact search."""
    with Session.open(workspace, session_config(config), tracking_uri=tracking_uri, console=err_console) as session:
        results = evaluate(session, model, datasets, k=k, retriever=retriever, fusion=fusion,
                           window_weight=window_weight)
        results_dir = session.workspace.results_dir
    console.print(detail_table(results))
    if len({r.model for r in results}) > 1:
        console.print(comparison_table(results))
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps([r.as_dict() for r in results], indent=2), encoding="utf-8")
    console.print(f"results JSON in {output or results_dir}")


@eval_app.command("convert-xquad")
def convert_xquad_command(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the four BEIR sets into.")],
    xquad_dir: Annotated[Optional[Path], typer.Option(help="Folder with xquad.de.json and xquad.en.json (default: shared data).")] = None,
) -> None:
    """Write XQuAD as BEIR sets: en-en, de-de, de-en and en-de (question → its paragraph)."""
    from adaptlab.datasets import dataset_dir
    from adaptlab.eval.xquad import convert_xquad

    for path in convert_xquad(xquad_dir or dataset_dir("xquad"), out_dir):
        console.print(f"wrote {path}")
