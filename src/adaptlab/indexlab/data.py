"""The vectors the lab runs on, the queries, a metadata tag to filter on, and the exact answers.

Vectors come from the user: the workspace's Milvus collection, a `.npy` file (e.g. the compress vector
cache) or an eval set's corpus encoded by a model. Queries are the eval set's real queries when there are
some, otherwise vectors held out of the corpus (document-to-document search, the same distribution).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.errors import AdaptlabError
from adaptlab.models.base import l2_normalize

K = 10


@dataclass
class LabData:
    """`tags` are small ints stored as a scalar field; the filtered runs keep rows where `tags == filter_tag`."""

    vectors: np.ndarray
    queries: np.ndarray
    tags: np.ndarray
    filter_tag: int
    source: str
    tag_names: list[str] = field(default_factory=list)
    _truth: dict[bool, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def filter_expr(self) -> str:
        return f"tag == {self.filter_tag}"

    @property
    def filter_share(self) -> float:
        return float(np.mean(self.tags == self.filter_tag))

    def truth(self, filtered: bool) -> np.ndarray:
        """Exact top-K row ids per query (cosine = inner product on normalised vectors), -1 padded."""
        if filtered not in self._truth:
            rows = np.flatnonzero(self.tags == self.filter_tag) if filtered else np.arange(len(self.vectors))
            self._truth[filtered] = exact_topk(self.queries, self.vectors, rows, K)
        return self._truth[filtered]

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "vectors": len(self.vectors),
            "queries": len(self.queries),
            "dim": self.dim,
            "filter": self.filter_expr,
            "filter_share": round(self.filter_share, 3),
            "filter_label": self.tag_names[self.filter_tag] if self.tag_names else f"tag {self.filter_tag}",
        }


def exact_topk(queries: np.ndarray, vectors: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Brute force in blocks of queries, so a million vectors never need a queries × corpus matrix at once."""
    out = np.full((len(queries), k), -1, dtype=np.int64)
    base = vectors[rows]
    top = min(k, len(rows))
    for start in range(0, len(queries), 256):
        scores = queries[start : start + 256] @ base.T
        part = np.argpartition(-scores, top - 1, axis=1)[:, :top]
        order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1)
        out[start : start + 256, :top] = rows[np.take_along_axis(part, order, axis=1)]
    return out


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the exact top-K that the index returned in its top-K, averaged over queries."""
    hits = [len(set(f[f >= 0]) & set(t[t >= 0])) / max(1, int((t >= 0).sum())) for f, t in zip(found, truth)]
    return float(np.mean(hits)) if hits else 0.0


def synthetic(real: np.ndarray, n: int, noise: float, seed: int = 0) -> np.ndarray:
    """Real vectors plus noise with the real set's covariance: same anisotropy, n of them.

    Each row is a random real vector plus Gaussian noise along the real set's principal axes, scaled by their
    standard deviations × `noise`, then L2-normalised (block by block, so a million rows need one array)."""
    rng = np.random.default_rng(seed)
    centred = real - real.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    scales = s / np.sqrt(len(real) - 1)
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    for start in range(0, n, 10000):
        m = min(10000, n - start)
        base = real[rng.integers(0, len(real), m)]
        out[start : start + m] = l2_normalize(
            base + noise * (rng.standard_normal((m, len(scales))) * scales) @ vt
        )
    return out


def _tags(labels: list[str] | None, n: int) -> tuple[np.ndarray, int, list[str]]:
    """Labels → ints by frequency; filter on the label whose share is nearest 30 %. No labels: row % 10 < 3."""
    if not labels or len(set(labels)) < 2:
        return np.where(np.arange(n) % 10 < 3, 0, 1).astype(np.int64), 0, ["every 10th row's first 3", "rest"]
    names = [name for name, _ in Counter(labels).most_common()]
    index = {name: i for i, name in enumerate(names)}
    tags = np.array([index[label] for label in labels], dtype=np.int64)
    shares = np.bincount(tags) / n
    return tags, int(np.argmin(np.abs(shares - 0.3))), names


def from_arrays(
    vectors: np.ndarray,
    queries: np.ndarray | None = None,
    labels: list[str] | None = None,
    n_queries: int = 200,
    source: str = "arrays",
    seed: int = 0,
) -> LabData:
    """Normalise; without queries, hold `n_queries` random vectors out of the corpus as the queries."""
    vectors = l2_normalize(np.asarray(vectors, dtype=np.float32))
    if vectors.ndim != 2 or len(vectors) < 20:
        raise AdaptlabError(f"{source}: need at least 20 vectors in a 2-D array, got shape {vectors.shape}")
    if queries is None:
        rng = np.random.default_rng(seed)
        held = rng.choice(len(vectors), size=min(n_queries, len(vectors) // 5), replace=False)
        keep = np.setdiff1d(np.arange(len(vectors)), held)
        queries, vectors = vectors[held], vectors[keep]
        labels = [labels[i] for i in keep] if labels else None
    queries = l2_normalize(np.asarray(queries, dtype=np.float32))
    if queries.shape[1] != vectors.shape[1]:
        raise AdaptlabError(
            f"{source}: queries have dimension {queries.shape[1]}, vectors {vectors.shape[1]}"
        )
    tags, filter_tag, names = _tags(labels, len(vectors))
    return LabData(vectors, queries[:n_queries], tags, filter_tag, source, names)


def from_npy(path: Path, n_queries: int = 200) -> LabData:
    try:
        vectors = np.load(path)
    except (OSError, ValueError) as exc:
        raise AdaptlabError(f"{path}: cannot read a .npy array of vectors ({exc})") from None
    return from_arrays(vectors, n_queries=n_queries, source=str(path))


def from_collection(uri: str, name: str, label_field: str = "lang", n_queries: int = 200) -> LabData:
    """Every vector of a workspace collection, with `label_field` (default: language) as the filter tag."""
    from adaptlab.vectors.milvus_store import MilvusVectorStore

    store = MilvusVectorStore(uri)
    try:
        if not store.has(name):
            known = ", ".join(store.list_collections()) or "none"
            raise AdaptlabError(
                f"collection '{name}' not found in {uri} (collections: {known}); run `adaptlab embed` first"
            )
        store._load(name)
        iterator = store.client.query_iterator(
            name, batch_size=4096, filter="", output_fields=["vector", label_field]
        )
        vectors: list[list[float]] = []
        labels: list[str] = []
        while page := iterator.next():
            vectors.extend(row["vector"] for row in page)
            labels.extend(str(row.get(label_field, "")) for row in page)
        iterator.close()
    finally:
        store.close()
    return from_arrays(
        np.array(vectors, dtype=np.float32), labels=labels, n_queries=n_queries, source=f"{uri}:{name}"
    )
