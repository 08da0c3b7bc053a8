"""Tested windows on disk (`<workspace>/monitor/drift.jsonl`) and the report that renders them."""

from __future__ import annotations

import datetime as dt
import html
import json
import threading
from pathlib import Path
from typing import Any

from rich.table import Table

MONITOR_DIR = "monitor"
HISTORY_FILE = "drift.jsonl"
REFERENCE_FILE = "reference.npz"
_LOCK = threading.Lock()


def monitor_dir(workspace_root: Path) -> Path:
    return Path(workspace_root) / MONITOR_DIR


def append_window(workspace_root: Path, record: dict[str, Any]) -> None:
    """One JSON line per window; appends are whole lines, so a reader never sees half a record."""
    path = monitor_dir(workspace_root) / HISTORY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK, path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")


def read_windows(workspace_root: Path, last: int | None = None) -> list[dict[str, Any]]:
    """The recorded windows, oldest first; unreadable lines are skipped (a crash mid-write leaves one)."""
    path = monitor_dir(workspace_root) / HISTORY_FILE
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records[-last:] if last else records


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _mix(langs: dict[str, int]) -> str:
    total = sum(langs.values()) or 1
    return " ".join(f"{k} {v / total:.0%}" for k, v in sorted(langs.items(), key=lambda kv: -kv[1]))


COLUMNS = ("when", "label", "queries", "MMD²", "p (embeddings)", "p (languages)", "languages", "drift")


def _row(r: dict[str, Any]) -> list[str]:
    return [
        _when(r["at"]),
        r.get("label", ""),
        str(r["n_window"]),
        f"{r['mmd2']:.4f}",
        f"{r['p_value']:.3f}",
        f"{r['language_p_value']:.3f}",
        _mix(r.get("languages", {})),
        ("ALERT: " + ", ".join(r.get("kinds", []))) if r.get("drift") else "ok",
    ]


def drift_table(records: list[dict[str, Any]]) -> Table:
    alerts = sum(bool(r.get("drift")) for r in records)
    table = Table(title=f"query drift: {len(records)} windows, {alerts} alerts")
    for column in COLUMNS:
        table.add_column(
            column, justify="right" if column in ("queries", "MMD²") or column.startswith("p ") else "left"
        )
    for r in records:
        style = "bold red" if r.get("drift") else None
        table.add_row(*_row(r), style=style)
    return table


def variants_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="serving: per variant")
    for column in (
        "variant",
        "versions",
        "searches",
        "p50 ms",
        "p95 ms",
        "mean top score",
        "CTR",
        "ratings",
        "mean rating",
    ):
        table.add_column(column, justify="left" if column in ("variant", "versions") else "right")
    for r in rows:
        table.add_row(
            r["variant"],
            ",".join(r["versions"]),
            str(r["searches"]),
            _num(r["latency_p50_ms"], 1),
            _num(r["latency_p95_ms"], 1),
            _num(r["mean_top_score"], 3),
            "–" if r["ctr"] is None else f"{r['ctr']:.1%}",
            str(r["ratings"]),
            _num(r["mean_rating"], 2),
        )
    return table


def _num(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def html_report(records: list[dict[str, Any]], variants: list[dict[str, Any]]) -> str:
    """A self-contained HTML page: the windows (alerts in red) and the per-variant serving summary."""

    def table(head: list[str], rows: list[tuple[list[str], bool]]) -> str:
        th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join(
            f"<tr class={'alert' if bad else 'ok'}>"
            + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
            + "</tr>"
            for cells, bad in rows
        )
        return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"

    alerts = sum(bool(r.get("drift")) for r in records)
    variant_rows = [
        (
            [
                r["variant"],
                ",".join(r["versions"]),
                str(r["searches"]),
                _num(r["latency_p50_ms"], 1),
                _num(r["latency_p95_ms"], 1),
                _num(r["mean_top_score"], 3),
                "–" if r["ctr"] is None else f"{r['ctr']:.1%}",
                _num(r["mean_rating"], 2),
            ],
            False,
        )
        for r in variants
    ]
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>adaptlab monitor</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse;margin-bottom:2rem}}
td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}}tr.alert td{{background:#fdd;color:#900}}</style>
</head><body><h1>adaptlab monitor</h1>
<h2>Query drift: {len(records)} windows, {alerts} alerts</h2>
{table(list(COLUMNS), [(_row(r), bool(r.get("drift"))) for r in records])}
<h2>Serving: per variant</h2>
{table(["variant", "versions", "searches", "p50 ms", "p95 ms", "mean top score", "CTR", "mean rating"], variant_rows)}
</body></html>
"""
