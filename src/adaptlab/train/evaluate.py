"""Before/after evaluation for fine-tuning: the base, the result, BM25 and the zoo's off-the-shelf models.

Frozen zoo models' vectors are cached on disk (e5-small encodes ~1–4 passages/s on two cores, so a
second run must not pay that again); an adapter reuses its base model's cached vectors, an ensemble its
members', a bridge its two models'.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from adaptlab.eval.beir import BeirDataset
from adaptlab.eval.document_windows import document_windows, search_documents
from adaptlab.eval.metrics import ir_metrics
from adaptlab.eval.retrieval_eval import RetrievalResult, document_text, encoded_run
from adaptlab.compress.vector_cache import VectorCache
from adaptlab.models.base import Embedder
from adaptlab.models.registry import ZOO
from adaptlab.train.adapter import AdapterEmbedder
from adaptlab.train.bridge import BridgeEmbedder
from adaptlab.train.ensemble import EnsembleEmbedder


@dataclass
class Scored:
    """One evaluation in the before/after table; `role` is bm25, off-the-shelf, before or after, and
    `<role>+bm25` for that model fused with BM25."""

    role: str
    result: RetrievalResult

    def as_dict(self) -> dict[str, object]:
        return {"role": self.role, **self.result.as_dict()}


def cached_vectors(embedder: Embedder, documents: list[str], queries: list[str], cache: VectorCache,
                   batch_size: int = 32) -> tuple[np.ndarray, np.ndarray] | None:
    """(document, query) vectors built from cached frozen zoo vectors, or None when the model has its own
    weights (a fine-tuned folder) and must simply encode."""
    if isinstance(embedder, EnsembleEmbedder):
        parts = [cached_vectors(m, documents, queries, cache, batch_size) for m in embedder.members]
        if any(p is None for p in parts):
            return None
        return (embedder.combine([p[0] for p in parts if p is not None]),
                embedder.combine([p[1] for p in parts if p is not None]))
    if isinstance(embedder, BridgeEmbedder):
        native = cached_vectors(embedder.target, documents, queries, cache, batch_size)
        if native is None or embedder.encoder.name not in ZOO:
            return None
        target_queries = dict(zip(queries, native[1]))
        return native[0], embedder.route(queries, lambda part: np.stack([target_queries[q] for q in part]),
                                         lambda part: cache.queries(embedder.encoder, part, batch_size))
    frozen = embedder.base if isinstance(embedder, AdapterEmbedder) else embedder
    if frozen.name not in ZOO:
        return None
    docs = cache.documents(frozen, documents, batch_size)
    query_vectors = cache.queries(frozen, queries, batch_size)
    if isinstance(embedder, AdapterEmbedder):
        return embedder.adapter.transform(docs, "document"), embedder.adapter.transform(query_vectors, "query")
    return docs, query_vectors


Run = dict[str, dict[str, float]]


def cached_run(embedder: Embedder, dataset: BeirDataset, cache: VectorCache, k: int = 100,
               batch_size: int = 32, window_weight: float | None = None) -> Run:
    """The model's exact top-`k` per query; vectors of frozen zoo models (an adapter's or an ensemble's too)
    come from `cache` (a bridge's from its two models'), a fine-tuned folder encodes. With `window_weight`,
    documents past the model's token limit are scored from windows (see document_windows)."""
    doc_ids, query_ids = list(dataset.corpus), list(dataset.queries)
    texts = [document_text(dataset.corpus[d]) for d in doc_ids]
    windows = None if window_weight is None else document_windows(embedder, texts, window_weight)
    vectors = cached_vectors(embedder, windows.texts if windows else texts,
                             [dataset.queries[q] for q in query_ids], cache, batch_size)
    if vectors is None:
        return encoded_run(embedder, dataset, windows, k, batch_size)
    return search_documents(vectors[1], vectors[0], doc_ids, query_ids, k, windows)


def scored_run(dataset: BeirDataset, model: str, run: Run, started: float) -> RetrievalResult:
    return RetrievalResult(dataset.name, model, ir_metrics(dataset.qrels, run), dataset.stats(),
                           time.perf_counter() - started)


def evaluate_cached(embedder: Embedder, dataset: BeirDataset, cache: VectorCache, k: int = 100,
                    batch_size: int = 32) -> RetrievalResult:
    """Exact-search metrics of `embedder` on `dataset`, through `cached_run`."""
    start = time.perf_counter()
    return scored_run(dataset, embedder.name, cached_run(embedder, dataset, cache, k, batch_size), start)
