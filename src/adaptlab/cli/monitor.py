"""`adaptlab monitor`: drift reference, offline drift checks of a query log, and the monitoring report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from adaptlab.cli.common import WorkspaceOpt, console, err_console
from adaptlab.cli.main import app
from adaptlab.errors import AdaptlabError

monitor_app = typer.Typer(help="Query drift and per-variant serving statistics.", no_args_is_help=True)
app.add_typer(monitor_app, name="monitor")

QueriesArg = Annotated[
    Path,
    typer.Argument(help="Queries: a .txt file (one per line) or .jsonl with a query/text/question field."),
]
ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Fixed embedding model for drift tests.")]


def read_queries(path: Path) -> list[str]:
    """The queries of a text or JSON-lines file; unusable JSON lines are reported and skipped."""
    if not path.is_file():
        raise AdaptlabError(f"{path}: no such file")
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix != ".jsonl":
        return [line.strip() for line in lines if line.strip()]
    queries, bad = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = next(row[k] for k in ("query", "text", "question") if isinstance(row.get(k), str))
            queries.append(text)
        except (ValueError, StopIteration, AttributeError):
            bad.append(number)
    if bad:
        err_console.print(
            f"{path}: skipped {len(bad)} lines without a query/text/question string (first: line {bad[0]})"
        )
    return queries


def _embed(workspace, model: str, queries: list[str]):
    from adaptlab.train.model_store import load_model

    return load_model(workspace, model).encode_queries(queries)


@monitor_app.command("reference")
def reference_command(
    queries: QueriesArg,
    model: ModelOpt = "minilm",
    workspace: WorkspaceOpt = None,
) -> None:
    """Set the reference window that served queries are compared with (known-good queries)."""
    import time

    from adaptlab.monitor.drift import Reference, query_languages
    from adaptlab.monitor.history import REFERENCE_FILE, monitor_dir
    from adaptlab.workspace import Workspace

    ws = Workspace.resolve(workspace)
    texts = read_queries(queries)
    if len(texts) < 10:
        raise AdaptlabError(f"{queries}: {len(texts)} queries; a reference needs at least 10")
    ref = Reference(_embed(ws, model, texts), query_languages(texts), model, time.time())
    path = ref.save(monitor_dir(ws.root) / REFERENCE_FILE)
    console.print(f"reference: {len(texts)} queries embedded with {model} → {path}")


@monitor_app.command("check")
def check_command(
    queries: QueriesArg,
    window: Annotated[int, typer.Option("--window", help="Queries per tested window.")] = 200,
    alpha: Annotated[float, typer.Option("--alpha", help="False-alarm bound per window.")] = 0.01,
    workspace: WorkspaceOpt = None,
) -> None:
    """Test a query log against the reference, window by window; windows are recorded to the history."""
    from adaptlab.monitor.drift import DriftDetector, Reference, query_languages
    from adaptlab.monitor.history import REFERENCE_FILE, append_window, drift_table, monitor_dir
    from adaptlab.workspace import Workspace

    ws = Workspace.resolve(workspace)
    reference = Reference.load(monitor_dir(ws.root) / REFERENCE_FILE)
    detector = DriftDetector(reference, alpha)
    texts = read_queries(queries)
    if len(texts) < 2:
        raise AdaptlabError(f"{queries}: fewer than two queries")
    vectors = _embed(ws, reference.model, texts)
    langs = query_languages(texts)
    results = []
    for start in range(0, len(texts), window):
        if len(texts) - start < 2:
            break
        result = detector.test(
            vectors[start : start + window],
            langs[start : start + window],
            label=f"{queries.name}[{start}:{start + window}]",
        ).as_dict()
        append_window(ws.root, result)
        results.append(result)
    console.print(drift_table(results))


@monitor_app.command("report")
def report_command(
    last: Annotated[Optional[int], typer.Option("--last", help="Only the last N windows.")] = None,
    html: Annotated[
        Optional[Path], typer.Option("--html", help="Also write a self-contained HTML report here.")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """The drift history (windows, p-values, language mix, alerts) and per-variant serving statistics."""
    from adaptlab.monitor.history import drift_table, html_report, read_windows, variants_table
    from adaptlab.serve.feedback import log_path, variant_summary
    from adaptlab.workspace import Workspace

    ws = Workspace.resolve(workspace)
    records = read_windows(ws.root, last)
    variants = variant_summary(log_path(ws.root))
    if not records and not variants:
        console.print(
            "nothing recorded yet: serve with --drift-window N, or run `adaptlab monitor check QUERIES`"
        )
    if records:
        console.print(drift_table(records))
    if variants:
        console.print(variants_table(variants))
    if html:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(html_report(records, variants), encoding="utf-8")
        console.print(f"HTML report → {html}")
