"""`adaptlab analyze`: what an embedding space looks like, in one HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from adaptlab.cli.common import ConfigOpt, TrackingOpt, WorkspaceOpt, console, err_console, session_config
from adaptlab.cli.main import app


@app.command("analyze")
def analyze_command(
    model: Annotated[
        list[str], typer.Option("--model", "-m", help="Zoo name or folder (repeat to compare models).")
    ] = ["minilm"],  # noqa: B006
    texts: Annotated[
        str,
        typer.Option(
            "--texts",
            help="xquad (parallel EN/DE paragraphs: language bias) or corpus (the workspace's chunks).",
        ),
    ] = "xquad",
    max_texts: Annotated[int, typer.Option(help="At most this many texts.")] = 480,
    projection: Annotated[str, typer.Option(help="2-D map: tsne or pca.")] = "tsne",
    clusters: Annotated[int, typer.Option(help="k-means clusters.")] = 8,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "--output",
            "-o",
            help="Folder for analysis.html and analysis.json (default: <workspace>/results/analyze).",
        ),
    ] = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Isotropy and average cosine, effective rank, alignment and uniformity, neighbour overlap between models,
    German/English bias on parallel paragraphs, k-means clusters with top terms, and 2-D maps coloured by
    language, source and cluster: one self-contained HTML report, logged to MLflow."""
    from adaptlab.analysis.stage import analyze
    from adaptlab.pipeline import Session

    with Session.open(
        workspace, session_config(config), tracking_uri=tracking_uri, console=err_console
    ) as session:
        summary, report = analyze(session, model, texts, output, projection, clusters, max_texts)
    for row in summary["geometry"]:
        console.print(
            f"{row['model']}: average cosine {row['average_cosine']:.3f}, isotropy {row['isotropy']:.3f}, "
            f"effective rank {row['effective_rank']:.1f}"
        )
    for row in summary["language"]:
        console.print(
            f"{row['model']}: DE/EN translation top-1 {row['translation_top1']:.2f}, "
            f"same-language neighbours {row['same_language_neighbours']:.2f}"
        )
    console.print(f"report: {report}")
