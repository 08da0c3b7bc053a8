"""Brute-force cosine top-k: the exact reference for approximate indexes and compressed vectors."""

from __future__ import annotations

import numpy as np

from adaptlab.errors import AdaptlabError

BLOCK_BYTES = 256 * 2**20
"""Upper bound on one block of the query × document score matrix, so large corpora fit in memory."""


def exact_search(
    query_vecs: np.ndarray,
    doc_vecs: np.ndarray,
    doc_ids: list[str],
    query_ids: list[str],
    k: int = 100,
) -> dict[str, dict[str, float]]:
    """Top-`k` documents per query by cosine similarity, as a ranx-style run {query id: {doc id: score}}."""
    if len(query_ids) != len(query_vecs) or len(doc_ids) != len(doc_vecs):
        raise ValueError("ids and vectors differ in count")
    if len(doc_ids) == 0:
        return {qid: {} for qid in query_ids}
    if query_vecs.shape[1] != doc_vecs.shape[1]:
        raise AdaptlabError(
            f"query vectors have {query_vecs.shape[1]} dimensions, documents {doc_vecs.shape[1]}: "
            "were they embedded with the same model?"
        )
    queries, docs = normalise(query_vecs), normalise(doc_vecs)
    k = min(k, len(doc_ids))
    block = max(1, BLOCK_BYTES // (4 * len(doc_ids)))
    run: dict[str, dict[str, float]] = {}
    for start in range(0, len(queries), block):
        scores = queries[start : start + block] @ docs.T
        top, top_scores = top_k(scores, k)
        for row, qid in enumerate(query_ids[start : start + block]):
            run[qid] = {doc_ids[j]: float(s) for j, s in zip(top[row], top_scores[row])}
    return run


def normalise(vecs: np.ndarray) -> np.ndarray:
    """L2-normalised float32 copy, so the inner product is the cosine; zero vectors stay zero."""
    vecs = np.asarray(vecs, dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.maximum(norms, np.finfo(np.float32).tiny)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and scores of the `k` best per row, best first, without sorting whole rows."""
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(part_scores, order, axis=1)
