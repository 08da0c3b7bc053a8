"""Two-sample test on embeddings: unbiased MMD² with a Gaussian kernel, p-value by permutation.

Hand-written because the maintained detectors do not fit this environment: alibi-detect pins numpy 1.26
and transformers < 5 (it would downgrade both), and Evidently installs a web server, plotting and telemetry
packages for the one test needed here. The test itself is Gretton et al. (2012): kernel bandwidth by the
median heuristic on the pooled sample, the permutation null computed for all permutations in one matrix
product, so 500 permutations of two 200-query windows take milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MMDResult:
    statistic: float
    p_value: float
    bandwidth: float
    permutations: int


def squared_distances(z: np.ndarray) -> np.ndarray:
    norms = np.einsum("ij,ij->i", z, z)
    d = norms[:, None] + norms[None, :] - 2.0 * (z @ z.T)
    np.maximum(d, 0.0, out=d)
    np.fill_diagonal(d, 0.0)
    return d


def mmd_permutation_test(
    x: np.ndarray, y: np.ndarray, permutations: int = 500, seed: int = 0, bandwidth: float | None = None
) -> MMDResult:
    """Is `y` drawn from the distribution of `x`? A small p-value says no."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError("both samples need at least two rows")
    z = np.vstack([x, y])
    d = squared_distances(z)
    if bandwidth is None:
        off = d[np.triu_indices(m + n, 1)]
        bandwidth = float(np.sqrt(0.5 * np.median(off))) or 1.0
    k = np.exp(-d / (2.0 * bandwidth**2))
    rng = np.random.default_rng(seed)
    labels = np.zeros((m + n, permutations + 1))
    labels[:m, 0] = 1.0  # column 0: the observed split
    for j in range(1, permutations + 1):
        labels[rng.permutation(m + n)[:m], j] = 1.0
    stats = _unbiased_mmd2(k, labels, m, n)
    observed = float(stats[0])
    p_value = float((1 + np.sum(stats[1:] >= observed)) / (1 + permutations))
    return MMDResult(observed, p_value, float(bandwidth), permutations)


def _unbiased_mmd2(k: np.ndarray, a: np.ndarray, m: int, n: int) -> np.ndarray:
    """MMD² for every split given by the 0/1 columns of `a` (1 = first sample); k(z, z) = 1."""
    row = k.sum(axis=1)
    total = row.sum()
    aka = np.einsum("ip,ip->p", a, k @ a)
    ak1 = a.T @ row
    bkb = total - 2.0 * ak1 + aka
    akb = ak1 - aka
    return (aka - m) / (m * (m - 1)) + (bkb - n) / (n * (n - 1)) - 2.0 * akb / (m * n)
