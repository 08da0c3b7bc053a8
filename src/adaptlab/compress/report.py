"""The results as a rich table (CLI) and as Markdown (docs): one row per model, dataset and method."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    from adaptlab.compress.evaluate import MethodResult

COLUMNS = ("model", "dataset", "method", "bytes/vec (RAM)", "stored", "×", "nDCG@10", "kept", "top-10 overlap",
           "ms/query", "fit s")


def _cells(r: "MethodResult") -> list[str]:
    kept = "–" if r.quality_kept is None else f"{100 * r.quality_kept:.1f} %"
    return [r.model.rsplit("/", 1)[-1], r.dataset, r.method, f"{r.bytes_per_vector:g}", f"{r.stored_bytes_per_vector:g}",
            f"{r.compression:.1f}", f"{r.ndcg_at_10:.3f}", kept, f"{r.top10_overlap:.3f}", f"{r.ms_per_query:.3f}",
            f"{r.fit_s:.2f}"]


def results_table(results: Sequence["MethodResult"]) -> Table:
    table = Table(title="embedding compression (quality kept = nDCG@10 / float32 nDCG@10 on the same set)")
    for i, column in enumerate(COLUMNS):
        table.add_column(column, justify="left" if i < 3 else "right")
    for r in results:
        table.add_row(*_cells(r))
    return table


def markdown_table(results: Sequence["MethodResult"]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * 3 + "---:|" * (len(COLUMNS) - 3)]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in results]
    return "\n".join(lines)
