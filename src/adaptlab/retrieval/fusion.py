"""Fusion of ranked lists: reciprocal rank fusion and weighted sum of min-max normalised scores.

The same formulas as `ranx.fuse` (methods "rrf" and "wsum" with norm "min-max"; a test checks they
agree), written out because ranx costs seconds of import and JIT compilation per process, which a
single CLI search or a server's first request should not pay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from adaptlab.errors import AdaptlabError

FUSION_METHODS = ("rrf", "wsum")
RRF_K = 60
"""Cormack et al. (2009): k=60 damps the head of each list; robust across collections."""

Scores = Mapping[str, float]
"""One ranked list: document id → retrieval score (higher is better)."""


def rrf(lists: Sequence[Scores], k: int = RRF_K) -> dict[str, float]:
    """Σ over lists of 1 / (k + rank), rank 1 = the list's best; a document absent from a list adds 0."""
    fused: dict[str, float] = {}
    for scores in lists:
        for rank, doc in enumerate(sorted(scores, key=scores.__getitem__, reverse=True), 1):
            fused[doc] = fused.get(doc, 0.0) + 1.0 / (k + rank)
    return fused


def wsum(lists: Sequence[Scores], weights: Sequence[float]) -> dict[str, float]:
    """Σ over lists of weight × (score − min) / (max − min): scores on different scales made comparable.

    A list whose scores are all equal (e.g. a single BM25 hit) gives each of them 1: they are that
    list's best, and min-max would otherwise erase its only match.
    """
    if len(weights) != len(lists):
        raise AdaptlabError(f"wsum needs one weight per list: {len(lists)} lists, {len(weights)} weights")
    fused: dict[str, float] = {}
    for scores, weight in zip(lists, weights):
        if not scores:
            continue
        low, high = min(scores.values()), max(scores.values())
        span = high - low
        for doc, score in scores.items():
            normalised = (score - low) / span if span > 1e-9 else 1.0
            fused[doc] = fused.get(doc, 0.0) + weight * normalised
    return fused


def fuse(
    lists: Sequence[Scores], method: str = "wsum", weights: Sequence[float] | None = None, k: int = RRF_K
) -> list[tuple[str, float]]:
    """Fused (document id, score), best first; ties keep the order in which documents were first seen."""
    if method == "rrf":
        fused = rrf(lists, k)
    elif method == "wsum":
        fused = wsum(lists, weights or [1.0 / len(lists)] * len(lists))
    else:
        raise AdaptlabError(f"unknown fusion '{method}'; use one of {', '.join(FUSION_METHODS)}")
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)


def fuse_runs(
    runs: Sequence[Mapping[str, Scores]], method: str = "wsum", weights: Sequence[float] | None = None,
    k: int = RRF_K, depth: int = 100,
) -> dict[str, dict[str, float]]:
    """Per-query fusion of ranx-style runs {query id: {doc id: score}}, each query cut to `depth`."""
    queries = dict.fromkeys(q for run in runs for q in run)
    return {
        q: dict(fuse([run.get(q, {}) for run in runs], method, weights, k)[:depth]) for q in queries
    }
