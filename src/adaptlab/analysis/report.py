"""One self-contained HTML file: tables and base64 PNGs inline, so it opens anywhere and logs as one artifact."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child,td.t{text-align:left}img{max-width:100%;margin:.5em}
.maps{display:flex;flex-wrap:wrap}.note{color:#666;font-size:.9em}"""


def table(rows: Sequence[dict[str, Any]], digits: int = 3) -> str:
    if not rows:
        return "<p class=note>(none)</p>"
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"<td>{v:.{digits}f}</td>"
        return (
            f"<td>{html.escape(str(v))}</td>"
            if isinstance(v, int)
            else f"<td class=t>{html.escape(str(v))}</td>"
        )

    body = "".join("<tr>" + "".join(cell(r.get(c, "")) for c in cols) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def image(png: bytes, alt: str) -> str:
    return (
        f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
    )


def write_report(path: Path, title: str, sections: Sequence[tuple[str, str]], note: str = "") -> Path:
    """`sections`: (heading, HTML body) in order."""
    parts = [f"<h2>{html.escape(h)}</h2>\n{body}" for h, body in sections]
    page = (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p class=note>{html.escape(note)}</p>" + "\n".join(parts) + "</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
