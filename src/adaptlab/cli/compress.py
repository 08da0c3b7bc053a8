"""`adaptlab compress`: what each embedding compression keeps of float32 quality, per byte saved."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adaptlab.cli.common import ConfigOpt, TrackingOpt, WorkspaceOpt, console, err_console, session_config
from adaptlab.cli.main import app
from adaptlab.compress.registry import DEFAULT_METHODS, METHODS

HELP = (
    "Measure embedding compression methods on BEIR sets: bytes per vector, compression factor vs float32, "
    "nDCG@10 and the share of float32's nDCG@10 kept, search ms/query (one thread) and fit time. "
    "Writes compression.json and a Pareto plot (compression.png) and logs both to MLflow.\n\n"
    "Methods (NAME or NAME:ARG, comma-separated):\n\n"
    + "\n\n".join(f"• {name}: {method.help}" for name, method in METHODS.items())
)


@app.command("compress", help=HELP)
def compress_command(
    model: Annotated[list[str], typer.Option("--model", "-m", help="Zoo name or local folder (repeatable).")] = ["minilm"],  # noqa: B006
    dataset: Annotated[list[str], typer.Option("--dataset", "-d", help="BEIR folder, 'xquad' or 'xquad-de-de' etc. (repeatable).")] = ["xquad-en-en"],  # noqa: B006
    methods: Annotated[str, typer.Option("--methods", help="Comma-separated methods; float32 is always added as the reference.")] = ",".join(DEFAULT_METHODS),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Folder for compression.json and compression.png (default: <workspace>/results/compress).")] = None,
    repeats: Annotated[int, typer.Option(help="Timed search repeats per method (the median is reported).")] = 3,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    from adaptlab.compress.evaluate import compress
    from adaptlab.compress.registry import parse_methods
    from adaptlab.compress.report import results_table
    from adaptlab.pipeline import Session

    specs = parse_methods(methods)  # a typo fails here, before any model loads
    with Session.open(workspace, session_config(config), tracking_uri=tracking_uri, console=err_console) as session:
        report = compress(session, model, dataset, specs, output, repeats)
    console.print(results_table(report.results))
    console.print(f"results: {report.json_path}\nplot: {report.plot_path}")
