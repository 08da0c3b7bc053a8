"""`adaptlab features`: the Feast feature store of a workspace (needs the `features` extra)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.table import Table

from adaptlab.cli.common import ConfigOpt, TrackingOpt, WorkspaceOpt, console, err_console, session_config
from adaptlab.cli.main import app
from adaptlab.errors import AdaptlabError

features_app = typer.Typer(
    help="Feature store (Feast): chunk metadata, chunk embeddings and document popularity, Parquet offline, "
    "SQLite or Redis online.",
    no_args_is_help=True,
)
app.add_typer(features_app, name="features")

OnlineOpt = Annotated[
    Optional[str],
    typer.Option(
        "--online",
        help="Online store: 'sqlite' (a file in the workspace) or a Redis URL, redis://127.0.0.1:6379/0 "
        "(default: features.online of --config, else sqlite).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ModelOpt = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        "-m",
        help="Whose collection becomes the chunk_embedding feature (default: the config's first model, minilm).",
        show_default=False,
    ),
]
DIMS_SHOWN = 4


def _repo(workspace, online, config, model=None):
    from adaptlab.features.repo import FeatureRepo
    from adaptlab.workspace import Workspace

    cfg = session_config(config)
    return FeatureRepo(
        Workspace.resolve(workspace or cfg.workspace), online or cfg.features.online, config=cfg, model=model
    )


def _notes(notes: list[str]) -> None:
    for note in notes:
        err_console.print(f"note: {note}")


@features_app.command("apply")
def apply_command(
    online: OnlineOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Export the workspace's features to Parquet and register the entities and feature views (`feast apply`)."""
    repo = _repo(workspace, online, config, model)
    with console.status("exporting features and applying the Feast repo"):
        report = repo.apply()
    _notes(report.notes)
    if as_json:
        print(json.dumps({"repo": str(repo.root), "online": repo.online.display(), **report.as_dict()}))
        return
    console.print(f"feature repo [bold]{repo.root}[/bold] applied (online store: {repo.online.display()})")
    console.print(
        f"{report.chunks} chunks, {report.documents_with_feedback} documents with feedback "
        f"({report.clicks} clicks, {report.ratings} ratings), {report.embeddings} {repo.model} embeddings"
    )
    console.print("next: `adaptlab features materialize` copies them into the online store")


@features_app.command("materialize")
def materialize_command(
    online: OnlineOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Re-export the features and copy what changed since the last run into the online store."""
    from adaptlab.tracking.mlflow_runs import tracked_run

    repo = _repo(workspace, online, config, model)
    repo.require_applied()
    with tracked_run(
        repo.workspace,
        "features-materialize",
        {"online": repo.online.display(), "embedding_model": repo.model},
        tracking_uri,
    ) as run:
        report = repo.materialize()
        e = report.export
        run.log_metrics(
            {
                "chunks": e.chunks,
                "documents_with_feedback": e.documents_with_feedback,
                "clicks": e.clicks,
                "ratings": e.ratings,
                "skipped_feedback": e.skipped_feedback,
                "embeddings": e.embeddings,
            }
        )
    _notes(e.notes)
    if as_json:
        print(json.dumps(report.as_dict()))
        return
    console.print(f"materialized into {report.online} up to {report.end}:")
    for view, kind in report.views.items():
        console.print(
            f"  {view}: {kind}"
            + (
                f" from {report.start[view]}"
                if report.start[view]
                else ""
                if kind == "skipped"
                else " (no rows)"
            )
        )
    if e.skipped_feedback:
        err_console.print(
            f"{e.skipped_feedback} feedback rows skipped (a rating naming no chunk, or a chunk no "
            "longer in the corpus)"
        )


@features_app.command("get")
def get_command(
    chunk_ids: Annotated[list[str], typer.Argument(help="Chunk ids (the `chunk_id` of search hits).")],
    online: OnlineOpt = None,
    embedding: Annotated[
        bool,
        typer.Option(
            "--embedding", help="Add the chunk's vector (in full with --json, else its first dims)."
        ),
    ] = False,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Online features of chunks: metadata, their document's clicks, ratings and popularity, and (--embedding)
    the chunk's vector."""
    repo = _repo(workspace, online, config)
    rows = repo.reader().get(chunk_ids, embedding=embedding)
    unknown = [c for c, row in rows.items() if row.get("lang") is None]
    if unknown and len(unknown) == len(rows):
        raise AdaptlabError(
            f"none of the {len(rows)} chunk ids has online features (not in the corpus, or not "
            "materialized yet: run `adaptlab features materialize`)"
        )
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        table = Table(title=f"online features ({repo.online.display()})")
        for col in (
            "chunk",
            "law",
            "lang",
            "words",
            "title",
            "clicks",
            "ratings",
            "mean rating",
            "popularity",
            *(("embedding",) if embedding else ()),
        ):
            table.add_column(col)
        for chunk_id, row in rows.items():
            if chunk_id in unknown:
                continue
            table.add_row(
                chunk_id[:12],
                row["law"] or "–",
                row["lang"],
                str(row["n_words"]),
                (row["title"] or "")[:50],
                str(row["clicks"] or 0),
                str(row["ratings"] or 0),
                f"{row['mean_rating']:.2f}" if row["ratings"] else "–",
                f"{row['popularity'] or 0.0:.3f}",
                *((_vector_cell(row),) if embedding else ()),
            )
        console.print(table)
    if unknown:
        err_console.print(
            f"{len(unknown)} of {len(rows)} chunk ids have no online features (not in the corpus, "
            f"or not materialized yet): {', '.join(unknown[:5])}"
        )


def _vector_cell(row: dict) -> str:
    vector = row.get("embedding")
    if not vector:
        return "–"
    head = ", ".join(f"{v:.3f}" for v in vector[:DIMS_SHOWN])
    return f"{row['model']} [{head}, …] ({len(vector)}-d)"
