"""Geometry of one embedding space (rows L2-normalised), each measure as in the paper that defined it."""

from __future__ import annotations

import numpy as np


def average_cosine(vectors: np.ndarray, pairs: int = 20000, seed: int = 0) -> float:
    """Mean cosine of random distinct pairs: near 0 for an isotropic space, high for a narrow cone (anisotropy,
    Ethayarajh 2019)."""
    n = len(vectors)
    if n < 2:
        return 0.0
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, n, pairs), rng.integers(0, n, pairs)
    keep = i != j
    return float(np.mean(np.sum(vectors[i[keep]] * vectors[j[keep]], axis=1)))


def isotropy(vectors: np.ndarray) -> float:
    """Mu & Viswanath (2018): min/max of the partition function Z(c) = Σ exp(c·v) over the principal
    directions c; 1 = perfectly isotropic, near 0 = all vectors lean one way."""
    _, _, vt = np.linalg.svd(vectors, full_matrices=False)
    z = np.exp(vectors @ vt.T).sum(axis=0)
    return float(z.min() / z.max())


def effective_rank(vectors: np.ndarray) -> float:
    """Roy & Vetterli (2007): exp of the entropy of the normalised singular values of the centred matrix —
    how many dimensions the space really uses."""
    s = np.linalg.svd(vectors - vectors.mean(axis=0), compute_uv=False)
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def alignment(a: np.ndarray, b: np.ndarray, alpha: float = 2.0) -> float:
    """Wang & Isola (2020): mean ‖f(x) − f(y)‖^α over positive pairs (row i of a with row i of b); lower is better."""
    return float(np.mean(np.linalg.norm(a - b, axis=1) ** alpha))


def uniformity(vectors: np.ndarray, t: float = 2.0, pairs: int = 20000, seed: int = 0) -> float:
    """Wang & Isola (2020): log E exp(−t‖x − y‖²) over random pairs; more negative = more uniform on the sphere."""
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, len(vectors), pairs), rng.integers(0, len(vectors), pairs)
    keep = i != j
    sq = np.sum((vectors[i[keep]] - vectors[j[keep]]) ** 2, axis=1)
    return float(np.log(np.mean(np.exp(-t * sq))))


def knn(vectors: np.ndarray, k: int) -> np.ndarray:
    """Each row's k nearest other rows by cosine."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return np.argsort(-sims, axis=1)[:, :k]


def neighbour_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean share of each text's k nearest neighbours that two models agree on (same texts, row-aligned)."""
    na, nb = knn(a, k), knn(b, k)
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(na, nb)]))


def geometry(vectors: np.ndarray) -> dict[str, float]:
    return {
        "average_cosine": average_cosine(vectors),
        "isotropy": isotropy(vectors),
        "effective_rank": effective_rank(vectors),
        "uniformity": uniformity(vectors),
        "dim": float(vectors.shape[1]),
    }
