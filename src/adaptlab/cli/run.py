"""`adaptlab run CONFIG` and `adaptlab demo`: the whole pipeline from one config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adaptlab.cli.common import MilvusOpt, TrackingOpt, WorkspaceOpt, console, err_console
from adaptlab.cli.eval import comparison_table
from adaptlab.cli.finetune import finetune_table
from adaptlab.cli.main import app
from adaptlab.cli.search import hits_table
from adaptlab.config import ExperimentConfig, load_config
from adaptlab.experiment import ExperimentSummary, demo_config, run_experiment


def show_summary(summary: ExperimentSummary) -> None:
    for model, per_query in summary.searches.items():
        console.rule(f"example searches · {model}")
        for query, hits in per_query.items():
            console.print(hits_table(query, hits, width=220))
    for report in summary.embeds:
        console.print(
            f"{report.model}: {report.vectors_in_collection} vectors for {report.chunks_in_corpus} chunks "
            f"({report.embedded_now} embedded now at {report.chunks_per_second:.1f} chunks/s)"
        )
    if summary.results:
        console.print(comparison_table(summary.results))
    if summary.finetune is not None:
        report = summary.finetune
        if report.scores:
            console.print(finetune_table(report.scores, window_weight=report.config.get("window_weight")))
        console.print(f"saved {report.name} → {report.path} ({report.train_pairs} pairs); use it with --model {report.name}")
    console.print(f"done in {summary.seconds / 60:.1f} min; results in {summary.results_path}")


def _run(cfg: ExperimentConfig, workspace, milvus_uri, tracking_uri) -> None:
    summary = run_experiment(cfg, workspace, milvus_uri, tracking_uri, console=err_console)
    show_summary(summary)
    if summary.ingest and summary.ingest.skipped:
        err_console.print(f"[yellow]{len(summary.ingest.skipped)} files skipped[/yellow] (reasons above)")


@app.command("run")
def run_command(
    config: Annotated[Path, typer.Argument(help="Experiment YAML (see configs/).")],
    workspace: WorkspaceOpt = None,
    milvus_uri: MilvusOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Run the pipeline a YAML config describes: ingest → embed each model → evaluate → fine-tune → example searches."""
    _run(load_config(config), workspace, milvus_uri, tracking_uri)


@app.command("demo")
def demo_command(
    workspace: WorkspaceOpt = None,
    milvus_uri: MilvusOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """The whole pipeline on the shared energy data, in one command.

    Ingests the German energy laws, the Open Energy Ontology and the MaStR field descriptions;
    embeds them with MiniLM and multilingual-e5-small into Milvus Lite; evaluates both on XQuAD
    (en→en, de→de, de→en, en→de); shows example searches. Needs ../shared/data or $ADAPTLAB_DATA.
    """
    _run(demo_config(), workspace, milvus_uri, tracking_uri)
