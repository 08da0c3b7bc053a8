"""Before/after evaluation for fine-tuning: the base, the result, BM25 and the zoo's off-the-shelf models.

Frozen zoo models' vectors are cached on disk (e5-small encodes ~1–4 passages/s on two cores, so a
second run must not pay that again); an adapter reuses its base model's cached vectors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from adaptlab.eval.beir import BeirDataset
from adaptlab.eval.exact_search import exact_search
from adaptlab.eval.metrics import ir_metrics
from adaptlab.eval.retrieval_eval import RetrievalResult, document_text, evaluate_retrieval
from adaptlab.compress.vector_cache import VectorCache
from adaptlab.models.base import Embedder
from adaptlab.models.registry import ZOO
from adaptlab.train.adapter import AdapterEmbedder


@dataclass
class Scored:
    """One evaluation in the before/after table; `role` is bm25, off-the-shelf, before or after."""

    role: str
    result: RetrievalResult

    def as_dict(self) -> dict[str, object]:
        return {"role": self.role, **self.result.as_dict()}


def evaluate_cached(embedder: Embedder, dataset: BeirDataset, cache: VectorCache, k: int = 100,
                    batch_size: int = 32) -> RetrievalResult:
    """Exact-search metrics; vectors of frozen zoo models (and an adapter's base) come from `cache`."""
    frozen = embedder.base if isinstance(embedder, AdapterEmbedder) else embedder
    if frozen.name not in ZOO:
        return evaluate_retrieval(embedder, dataset, k, batch_size)
    start = time.perf_counter()
    doc_ids, query_ids = list(dataset.corpus), list(dataset.queries)
    docs = cache.documents(frozen, [document_text(dataset.corpus[d]) for d in doc_ids], batch_size)
    queries = cache.queries(frozen, [dataset.queries[q] for q in query_ids], batch_size)
    if isinstance(embedder, AdapterEmbedder):
        docs = embedder.adapter.transform(docs, "document")
        queries = embedder.adapter.transform(queries, "query")
    run = exact_search(queries, docs, doc_ids, query_ids, k=k)
    return RetrievalResult(dataset.name, embedder.name, ir_metrics(dataset.qrels, run), dataset.stats(),
                           time.perf_counter() - start)

