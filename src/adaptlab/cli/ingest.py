"""`adaptlab ingest`: files and folders into the workspace corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from adaptlab.cli.common import ConfigOpt, TrackingOpt, WorkspaceOpt, console, err_console, session_config
from adaptlab.cli.main import app
from adaptlab.corpus.ingest import supported_files_hint
from adaptlab.pipeline import Session, ingest

EXIT_PARTIAL = 1


@app.command("ingest", help=f"""Ingest files and folders: load, clean, detect language, chunk, store.

Supported: {supported_files_hint()} (MaStR XML/CSV exports and ontologies (.omn) are recognised).
Unchanged files are skipped; a changed file replaces its chunks and vectors.

Exit status: 0 all files ingested; 1 some files skipped (each named with its reason on stderr,
the rest ingested); 2 usage or configuration error.""")
def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest (folders recursively).")],
    prune: Annotated[bool, typer.Option("--prune", help="Remove documents whose files are gone.")] = False,
    chunk_unit: Annotated[Optional[str], typer.Option(help="'words' or 'tokens' (of --chunk-model).")] = None,
    chunk_size: Annotated[Optional[int], typer.Option(help="Chunk size (default 500 words / model max tokens).")] = None,
    chunk_overlap: Annotated[Optional[int], typer.Option(help="Overlap in the same unit (default 20).")] = None,
    chunk_model: Annotated[Optional[str], typer.Option(help="Model whose tokenizer sizes token chunks.")] = None,
    text_field: Annotated[Optional[list[str]], typer.Option(help="json/jsonl/csv text field (repeatable).")] = None,
    title_field: Annotated[Optional[str], typer.Option(help="json/jsonl/csv title field.")] = None,
    id_field: Annotated[Optional[str], typer.Option(help="json/jsonl/csv record id field.")] = None,
    max_file_mb: Annotated[Optional[float], typer.Option(help="Skip files larger than this (default 100).")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Processes preparing files (default: one per CPU).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    cfg = session_config(config)
    overrides = {"unit": chunk_unit, "size": chunk_size, "overlap": chunk_overlap, "model": chunk_model}
    cfg.chunking = cfg.chunking.model_validate({**cfg.chunking.model_dump(), **{k: v for k, v in overrides.items() if v is not None}})
    corpus = {"text_fields": text_field, "title_field": title_field, "id_field": id_field, "max_file_mb": max_file_mb,
              "workers": workers}
    cfg.corpus = cfg.corpus.model_validate({**cfg.corpus.model_dump(), **{k: v for k, v in corpus.items() if v is not None}})
    with Session.open(workspace, cfg, tracking_uri=tracking_uri, console=err_console) as session:
        report = ingest(session, paths, prune=prune or cfg.corpus.prune)
        stats = session.store.stats()
    for skipped in report.skipped:
        err_console.print(f"[yellow]skipped[/yellow] {skipped.path}: {skipped.reason}", highlight=False, soft_wrap=True)
    for warning in report.warnings[:20]:
        err_console.print(f"[yellow]warning[/yellow] {warning}", highlight=False, soft_wrap=True)
    if len(report.warnings) > 20:
        err_console.print(f"… and {len(report.warnings) - 20} more warnings")
    if as_json:
        print(json.dumps({**report.as_dict(), "skipped": [s.__dict__ for s in report.skipped], "corpus": stats}, ensure_ascii=False))
    else:
        table = Table(title="ingest", show_header=False)
        for key, value in report.as_dict().items():
            table.add_row(key.replace("_", " "), str(value))
        table.add_row("corpus documents / chunks", f"{stats['documents']} / {stats['chunks']}")
        console.print(table)
    if report.skipped:
        raise typer.Exit(EXIT_PARTIAL)
