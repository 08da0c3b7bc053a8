"""Scoring documents longer than the model's token limit from windows the model reads whole.

A model truncates a document past `max_seq_length` tokens, so whatever a long section says further down
never counts. With window scoring each document is cut into windows of the model's own limit (whole
sentences packed as ingest packs chunks, a quarter of each window overlapping the next), and its score
for a query is (1 − w) · lead window + w · best window: the lead carries the heading and the opening,
which a section is mostly about; the best window finds the passage that answers. On the held-out German
laws the fine-tuned e5 (128 tokens) goes from 0.681 to 0.704 nDCG@10 this way, the off-the-shelf e5 (512)
from 0.634 to 0.650 (docs/benchmarks.md, "Ninth round"). A document within the limit is one window, and
scores exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from adaptlab.corpus.chunking import SentencePacker
from adaptlab.eval.exact_search import BLOCK_BYTES, exact_search, normalise, top_k
from adaptlab.models.base import Embedder

OVERLAP = 0.25
"""Share of a window's tokens that the next window repeats, so no sentence pair is only ever seen cut apart."""


@dataclass(frozen=True)
class DocumentWindows:
    """Window texts of a list of documents; `owners[i]` is the document index of window i, ascending, and
    each document's first window is its lead. `best_weight` is the best window's share of the score."""

    texts: list[str]
    owners: np.ndarray
    best_weight: float = 0.5

    @property
    def leads(self) -> np.ndarray:
        """Index of each document's first window."""
        return np.flatnonzero(np.r_[True, self.owners[1:] != self.owners[:-1]])


def document_windows(embedder: Embedder, documents: Sequence[str], best_weight: float = 0.5) -> DocumentWindows:
    """Each document as windows within `embedder.max_seq_length` tokens; a model without a limit or a
    tokenizer reads every document as one window (what plain encoding does)."""
    limit = embedder.max_seq_length
    lengths = embedder.count_tokens(documents) if limit and documents else None
    if lengths is None or limit is None:
        return DocumentWindows(list(documents), np.arange(len(documents)), best_weight)

    def count(texts: Sequence[str]) -> list[int]:
        return embedder.count_tokens(texts) or [len(t.split()) for t in texts]

    packer = SentencePacker(limit, int(limit * OVERLAP), count)
    texts: list[str] = []
    owners: list[int] = []
    for index, (document, n) in enumerate(zip(documents, lengths)):
        pieces = [document] if n <= limit else (packer.pack(document) or [document])
        texts.extend(pieces)
        owners.extend([index] * len(pieces))
    return DocumentWindows(texts, np.asarray(owners, dtype=np.int64), best_weight)


def window_scores(query_vecs: np.ndarray, window_vecs: np.ndarray, windows: DocumentWindows) -> np.ndarray:
    """(queries × documents) cosine scores: (1 − best_weight) · lead window + best_weight · best window."""
    scores = normalise(query_vecs) @ normalise(window_vecs).T
    leads = windows.leads
    lead = scores[:, leads]
    if windows.best_weight == 0.0:
        return lead
    best = np.maximum.reduceat(scores, leads, axis=1)
    return (1.0 - windows.best_weight) * lead + windows.best_weight * best


def search_documents(query_vecs: np.ndarray, doc_vecs: np.ndarray, doc_ids: list[str], query_ids: list[str],
                     k: int = 100, windows: DocumentWindows | None = None) -> dict[str, dict[str, float]]:
    """Exact search over one vector per document, or over `windows` (then `doc_vecs` are the window vectors)."""
    if windows is None:
        return exact_search(query_vecs, doc_vecs, doc_ids, query_ids, k=k)
    return windowed_search(query_vecs, doc_vecs, windows, doc_ids, query_ids, k=k)


def windowed_search(query_vecs: np.ndarray, window_vecs: np.ndarray, windows: DocumentWindows,
                    doc_ids: list[str], query_ids: list[str], k: int = 100) -> dict[str, dict[str, float]]:
    """Top-`k` documents per query by window score, as a ranx-style run {query id: {doc id: score}}."""
    if len(window_vecs) != len(windows.texts) or len(query_vecs) != len(query_ids):
        raise ValueError("ids, windows and vectors differ in count")
    if not doc_ids:
        return {qid: {} for qid in query_ids}
    k = min(k, len(doc_ids))
    block = max(1, BLOCK_BYTES // (4 * len(windows.texts)))
    run: dict[str, dict[str, float]] = {}
    for start in range(0, len(query_ids), block):
        scores = window_scores(query_vecs[start : start + block], window_vecs, windows)
        top, top_scores = top_k(scores, k)
        for row, qid in enumerate(query_ids[start : start + block]):
            run[qid] = {doc_ids[j]: float(s) for j, s in zip(top[row], top_scores[row])}
    return run


__all__ = ["DocumentWindows", "OVERLAP", "document_windows", "search_documents", "window_scores", "windowed_search"]
