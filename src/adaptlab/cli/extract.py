"""`adaptlab extract`: records out of documents into JSON lines, validated against a JSON schema."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from adaptlab.cli.common import console, err_console
from adaptlab.cli.main import app

EXIT_PARTIAL = 1
LLM_CHOICES = ("none", "auto", "smollm2-135m")


@app.command(
    "extract",
    help="""Extract structured records from documents into JSON lines.

Each record is validated by a pydantic model built from --schema (a flat JSON schema file, or a
built-in name: mastr-unit, schedule). Rules (labels, cue words, patterns, tables) come first; with
--llm a local model fills the fields the rules left empty, and its answer is kept only when it
validates and the document contains it. Text, Markdown, CSV, HTML, PDF and images (OCR) are read.

Exit status: 0 every file gave records; 1 some files gave none (each named with its reason on
stderr, the others written); 2 usage error (bad schema, unknown model).""",
)
def extract_command(
    inputs: Annotated[list[Path], typer.Argument(help="Files or folders (folders recursively).")],
    schema: Annotated[
        str, typer.Option("--schema", "-s", help="JSON schema file, or mastr-unit / schedule.")
    ],
    out: Annotated[
        Optional[Path], typer.Option("--out", "-o", help="JSON lines file to write (default: stdout).")
    ] = None,
    llm: Annotated[
        str, typer.Option("--llm", help="none (rules only), smollm2-135m, or auto (SmolLM2 if installed).")
    ] = "none",
    ocr_min_confidence: Annotated[
        Optional[float], typer.Option(help="OCR quality gate for scans (default 70).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON (needs --out).")] = False,
) -> None:
    from adaptlab.corpus.ingest import IngestReport, iter_files
    from adaptlab.corpus.loaders import LoaderOptions
    from adaptlab.errors import AdaptlabError
    from adaptlab.extract import Extractor, load_schema
    from adaptlab.progress import make_progress

    if llm not in LLM_CHOICES:
        raise AdaptlabError(f"unknown --llm '{llm}'; use one of {', '.join(LLM_CHOICES)}")
    if as_json and out is None:
        raise AdaptlabError("--json prints the summary on stdout, so the records need --out FILE")
    record_schema = load_schema(schema)
    complete = _model(llm)
    extractor = Extractor(record_schema, complete, LoaderOptions(ocr_min_confidence=ocr_min_confidence))
    missing = IngestReport()
    files = list(iter_files(inputs, missing))
    results = []
    with make_progress(err_console, unit="files") as progress:
        task = progress.add_task("extract", total=len(files))
        for path in files:
            results.append(extractor.extract_file(path))
            progress.advance(task)
    lines = [line for result in results for line in result.lines()]
    _write(lines, out)
    failed = [(s.path, s.reason) for s in missing.skipped] + [(r.path, r.error) for r in results if r.error]
    for path, reason in failed:
        err_console.print(f"[yellow]no records[/yellow] {path}: {reason}", highlight=False, soft_wrap=True)
    summary = {
        "files": len(files) + len(missing.skipped),
        "files_with_records": sum(1 for r in results if r.records),
        "files_failed": len(failed),
        "records": len(lines),
        "schema": record_schema.title,
        "llm": llm if complete else "none",
        "out": str(out) if out else "-",
    }
    if as_json:
        print(
            json.dumps(
                {**summary, "failed": [{"path": p, "reason": r} for p, r in failed]}, ensure_ascii=False
            )
        )
    else:
        (console if out else err_console).print(
            f"{summary['records']} records from {summary['files_with_records']} of {summary['files']} files"
            + (f" → {out}" if out else ""),
            highlight=False,
        )
    if failed:
        raise typer.Exit(EXIT_PARTIAL)


def _model(llm: str):
    """The completion function for --llm, or None for rules only (auto without SmolLM2 installed)."""
    if llm == "none":
        return None
    from adaptlab.rag.generators import check_generator, smollm2_available

    if llm == "auto" and not smollm2_available():
        err_console.print("SmolLM2 is not installed; extracting with rules only")
        return None
    check_generator("smollm2-135m")
    from adaptlab.extract.llm import smollm2_complete

    return smollm2_complete()


def _write(lines: list[str], out: Path | None) -> None:
    """All records at once, via a temporary file, so an interrupted run never leaves half a file."""
    text = "".join(line + "\n" for line in lines)
    if out is None:
        print(text, end="")
        return
    from adaptlab.errors import AdaptlabError

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        partial.write_text(text, "utf-8")
        os.replace(partial, out)
    except OSError as err:
        raise AdaptlabError(f"cannot write {out} ({err.strerror or err})") from None
