"""`adaptlab status`: what the workspace holds."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from adaptlab.cli.common import MilvusOpt, TrackingOpt, WorkspaceOpt, console, err_console
from adaptlab.cli.main import app
from adaptlab.pipeline import Session
from adaptlab.tracking.mlflow_runs import recent_runs


def workspace_status(session: Session, tracking_uri: str | None) -> dict:
    stats = session.store.stats()
    collections = []
    for col in session.store.collections():
        vectors = session.vectors.count(col["name"]) if session.vectors.has(col["name"]) else 0
        collections.append({**col, "vectors": vectors, "marked_embedded": stats["embedded"].get(col["name"], 0)})
    return {
        "workspace": str(session.workspace.root),
        "files": stats["files"],
        "documents": stats["documents"],
        "chunks": stats["chunks"],
        "document_languages": stats["document_languages"],
        "chunk_languages": stats["chunk_languages"],
        "collections": collections,
        "last_runs": recent_runs(session.workspace, 5, tracking_uri),
    }


@app.command("status")
def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    workspace: WorkspaceOpt = None,
    milvus_uri: MilvusOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Documents, chunks, languages, models embedded, vectors per collection and the last runs."""
    with Session.open(workspace, None, milvus_uri, tracking_uri, console=err_console) as session:
        info = workspace_status(session, tracking_uri)
    if as_json:
        print(json.dumps(info, default=str))
        return
    console.print(f"workspace [bold]{info['workspace']}[/bold]")
    console.print(f"{info['files']} files, {info['documents']} documents, {info['chunks']} chunks")
    langs = ", ".join(f"{k or '?'}: {v}" for k, v in sorted(info["chunk_languages"].items(), key=lambda kv: -kv[1]))
    console.print(f"chunk languages: {langs or '–'}")
    table = Table(title="collections")
    for col in ("collection", "model", "dim", "index", "vectors", "chunks"):
        table.add_column(col)
    for col in info["collections"]:
        table.add_row(col["name"], col["model"], str(col["dim"]), f"{col['index_type']}/{col['metric']}",
                      str(col["vectors"]), str(info["chunks"]))
    console.print(table)
    runs = Table(title="last runs")
    for col in ("run", "status", "metrics"):
        runs.add_column(col)
    for run in info["last_runs"]:
        metrics = ", ".join(f"{k}={v:.3g}" for k, v in list(run["metrics"].items())[:4])
        runs.add_row(run["name"] or run["run_id"][:8], run["status"], metrics)
    console.print(runs)
