"""Static plots for the report: 2-D maps coloured by a label, and the singular-value spectrum."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np


def project(vectors: np.ndarray, method: str = "tsne", seed: int = 0) -> np.ndarray:
    """2-D coordinates: t-SNE (neighbourhoods) or PCA (global directions), both from scikit-learn."""
    from sklearn.decomposition import PCA

    if method == "pca" or len(vectors) < 10:
        return PCA(n_components=2, random_state=seed).fit_transform(vectors)
    from sklearn.manifold import TSNE

    perplexity = float(min(30, max(5, (len(vectors) - 1) // 4)))
    return TSNE(
        n_components=2, perplexity=perplexity, init="pca", random_state=seed, metric="cosine"
    ).fit_transform(vectors)


def _png(fig) -> bytes:  # noqa: ANN001  (a matplotlib Figure; imported lazily)
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def map_png(points: np.ndarray, labels: Sequence[str], title: str, max_legend: int = 12) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5))
    names = sorted(set(labels), key=lambda x: (-list(labels).count(x), x))
    cmap = plt.get_cmap("tab20")
    arr = np.array(labels)
    for i, name in enumerate(names):
        mask = arr == name
        ax.scatter(
            points[mask, 0],
            points[mask, 1],
            s=9,
            color=cmap(i % 20),
            alpha=0.8,
            label=name if i < max_legend else None,
        )
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=7, markerscale=2, loc="best")
    fig.tight_layout()
    return _png(fig)


def spectrum_png(spectra: dict[str, np.ndarray]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, s in spectra.items():
        ax.plot(np.arange(1, len(s) + 1), s / s.sum(), label=name)
    ax.set_yscale("log")
    ax.set_xlabel("principal direction")
    ax.set_ylabel("share of variance (singular value)")
    ax.set_title("How many directions each model uses", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _png(fig)
