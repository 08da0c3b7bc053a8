"""Options and helpers shared by every command module."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

# piped output (CI logs, files) gets a wide console instead of rich's 80-column default
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

WorkspaceOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--workspace",
        "-w",
        help="Folder holding corpus, vectors, MLflow store and model cache "
        "(default: $ADAPTLAB_WORKSPACE or ./.adaptlab).",
        show_default=False,
    ),
]
TrackingOpt = Annotated[
    Optional[str],
    typer.Option(
        "--tracking-uri",
        help="MLflow tracking URI (default: sqlite store in the workspace; 'none' disables logging).",
        show_default=False,
    ),
]
MilvusOpt = Annotated[
    Optional[str],
    typer.Option(
        "--milvus-uri",
        help="Milvus URI: a local Milvus Lite path (default: <workspace>/milvus.db) or http://host:19530.",
        show_default=False,
    ),
]
FilterOpt = Annotated[
    Optional[str],
    typer.Option(
        "--filter", "-f",
        help='Filter, e.g. \'lang == "de"\' or \'technology == "solar" and net_capacity_kw > 1000\'.',
        show_default=False,
    ),
]
SearchModelOpt = Annotated[
    str, typer.Option("--model", "-m", help="Embedding model (zoo name, registered name or folder) whose collection to search.")
]
ModeOpt = Annotated[
    str, typer.Option("--mode", help="dense (the model's vectors), bm25 (terms) or hybrid (both, score-fused).")
]
ConfigOpt = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="Experiment YAML whose settings apply (flags override it).", show_default=False),
]


def session_config(path: Path | None):
    """The config from a YAML file, or the defaults."""
    from adaptlab.config import ExperimentConfig, load_config

    return load_config(path) if path else ExperimentConfig()
