"""The results as a rich table (CLI) and as Markdown (docs): one row per model, dataset and method."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    from adaptlab.compress.evaluate import MethodResult

COLUMNS = ("model", "dataset", "method", "bytes/vec (RAM)", "stored", "×", "nDCG@10", "kept", "top-10 overlap",
           "ms/query", "fit s")


def _cells(r: MethodResult) -> list[str]:
    kept = "–" if r.quality_kept is None else f"{100 * r.quality_kept:.1f} %"
    return [r.model.rsplit("/", 1)[-1], r.dataset, r.method, f"{r.bytes_per_vector:g}", f"{r.stored_bytes_per_vector:g}",
            f"{r.compression:.1f}", f"{r.ndcg_at_10:.3f}", kept, f"{r.top10_overlap:.3f}", f"{r.ms_per_query:.3f}",
            f"{r.fit_s:.2f}"]


def results_table(results: Sequence[MethodResult]) -> Table:
    table = Table(title="embedding compression (quality kept = nDCG@10 / float32 nDCG@10 on the same set)")
    for i, column in enumerate(COLUMNS):
        table.add_column(column, justify="left" if i < 3 else "right")
    for r in results:
        table.add_row(*_cells(r))
    return table


def markdown_table(results: Sequence[MethodResult]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * 3 + "---:|" * (len(COLUMNS) - 3)]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in results]
    return "\n".join(lines)


def kept_markdown(results: Sequence[MethodResult], model: str) -> str:
    """One model's methods down, datasets across: nDCG@10 kept, with size and the slowest search time."""
    mine = [r for r in results if r.model == model]
    datasets = list(dict.fromkeys(r.dataset for r in mine))
    by_key = {(r.method, r.dataset): r for r in mine}
    head = ["method", "bytes/vec in RAM (stored)", "× vs float32", *[f"kept {d}" for d in datasets], "max ms/query"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for method in dict.fromkeys(r.method for r in mine):
        rows = [by_key[(method, d)] for d in datasets if (method, d) in by_key]
        first = rows[0]
        size = f"{first.bytes_per_vector:g}" + (
            f" ({first.stored_bytes_per_vector:g})" if first.stored_bytes_per_vector != first.bytes_per_vector else "")
        kept = [
            "–" if (method, d) not in by_key or by_key[(method, d)].quality_kept is None
            else f"{100 * by_key[(method, d)].quality_kept:.1f} %"
            for d in datasets
        ]
        lines.append("| " + " | ".join([method, size, f"{first.compression:.1f}", *kept,
                                          f"{max(r.ms_per_query for r in rows):.3f}"]) + " |")
    return "\n".join(lines)
