"""The recall/QPS frontier as a static PNG: every setting as a point, the Pareto front as a line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adaptlab.indexlab.lab import LabResult, frontier


def frontier_plot(
    results: Sequence[LabResult],
    path: Path,
    target: float,
    rank_by: str = "qps_1",
    recommended: LabResult | None = None,
    title: str = "",
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    kinds = sorted({r.index_type for r in results})
    cmap = plt.get_cmap("tab10")
    for i, kind in enumerate(kinds):
        rows = [r for r in results if r.index_type == kind]
        ax.scatter(
            [r.recall_at_10 for r in rows],
            [getattr(r, rank_by) for r in rows],
            color=cmap(i % 10),
            label=kind,
            s=28,
            marker="s" if rows[0].engine == "faiss" else "o",
        )
    front = sorted(frontier(results, rank_by), key=lambda r: r.recall_at_10)
    ax.plot(
        [r.recall_at_10 for r in front],
        [getattr(r, rank_by) for r in front],
        color="0.4",
        lw=1,
        ls="--",
        label="frontier",
    )
    ax.axvline(target, color="crimson", lw=0.8, ls=":", label=f"recall target {target:.2f}")
    if recommended is not None:
        ax.scatter(
            [recommended.recall_at_10],
            [getattr(recommended, rank_by)],
            s=160,
            facecolors="none",
            edgecolors="crimson",
            lw=1.5,
            label=f"recommended: {recommended.setting}",
        )
    ax.set_xlabel("recall@10 vs exact search")
    ax.set_ylabel("queries/s at batch 1" if rank_by == "qps_1" else "queries/s batched")
    ax.set_yscale("log")
    ax.set_title(title or "index lab: recall / speed frontier", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
