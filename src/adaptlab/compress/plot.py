"""The Pareto plot: quality kept against compression factor, one panel per (model, dataset)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adaptlab.compress.evaluate import MethodResult

BARS = (0.99, 0.97)
"""The issue's quality bars (int8 ≥ 99 %, binary + rescoring ≥ 97 %), drawn as guides."""


def pareto_front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points no other point beats in both compression and quality, by increasing compression."""
    front: list[tuple[float, float]] = []
    for x, y in sorted(points, key=lambda p: (-p[0], -p[1])):
        if not front or y > front[-1][1]:
            front.append((x, y))
    return front[::-1]


def pareto_plot(results: Sequence[MethodResult], path: Path) -> Path:
    """Write a PNG (matplotlib, Agg backend, no display needed) and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = list(dict.fromkeys((r.model, r.dataset) for r in results))
    cols = min(2, len(panels)) or 1
    rows = math.ceil(len(panels) / cols) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.8 * rows), squeeze=False)
    for ax, (model, dataset) in zip(axes.flat, panels):
        found = [r for r in results if (r.model, r.dataset) == (model, dataset) and r.quality_kept is not None]
        xs = [r.compression for r in found]
        ys = [r.quality_kept for r in found]
        ax.scatter(xs, ys, s=22, color="tab:blue", zorder=3)
        for r in found:
            ax.annotate(r.method, (r.compression, r.quality_kept), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
        front = pareto_front(list(zip(xs, ys)))
        ax.plot([p[0] for p in front], [p[1] for p in front], color="tab:orange", lw=1, zorder=2, label="Pareto front")
        for bar in BARS:
            ax.axhline(bar, color="grey", lw=0.6, ls="--")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("compression vs float32 (bytes per vector held in memory)")
        ax.set_ylabel("nDCG@10 kept (vs float32)")
        ax.set_title(f"{model.rsplit('/', 1)[-1]} · {dataset}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
