"""BM25 and hybrid (BM25 fused with a dense model) evaluated on a BEIR set, the dense side by exact search.

BM25 analyses each document in its detected language, as it does over the workspace corpus, so the
numbers describe what `adaptlab search --mode bm25|hybrid` does.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from adaptlab.corpus.language import detect_language
from adaptlab.eval.beir import BeirDataset
from adaptlab.eval.metrics import ir_metrics
from adaptlab.eval.retrieval_eval import DocumentVectorCache, RetrievalResult, dense_run, document_text
from adaptlab.models.base import Embedder
from adaptlab.retrieval.bm25 import BM25Index
from adaptlab.retrieval.fusion import RRF_K, fuse_runs

Run = dict[str, dict[str, float]]
RETRIEVERS = ("dense", "bm25", "hybrid")


def bm25_run(dataset: BeirDataset, k: int = 100) -> Run:
    """BM25's top-`k` per query over the set's documents, as a ranx-style run."""
    doc_ids = list(dataset.corpus)
    texts = [document_text(dataset.corpus[d]) for d in doc_ids]
    index = BM25Index.build(doc_ids, texts, [detect_language(t)[0] for t in texts])
    query_ids = list(dataset.queries)
    rankings = index.search_many([dataset.queries[q] for q in query_ids], k)
    return {qid: dict(ranking) for qid, ranking in zip(query_ids, rankings)}


def hybrid_name(method: str, model: str, weights: Sequence[float] | None = None) -> str:
    """`hybrid-wsum(bm25+m)`; weights other than the default appear as BM25's: `hybrid-wsum0.3(bm25+m)`."""
    shown = f"{weights[0]:g}" if weights and method == "wsum" and abs(weights[0] - weights[1]) > 1e-9 else ""
    return f"hybrid-{method}{shown}(bm25+{model})"


def evaluate_bm25(dataset: BeirDataset, k: int = 100) -> tuple[RetrievalResult, Run]:
    """BM25's metrics, and its run so hybrids on the same set reuse it."""
    start = time.perf_counter()
    run = bm25_run(dataset, k)
    seconds = time.perf_counter() - start
    return RetrievalResult(dataset.name, "bm25", ir_metrics(dataset.qrels, run), dataset.stats(), seconds), run


def hybrid_run(lexical: Run, semantic: Run, k: int = 100, method: str = "wsum",
               weights: Sequence[float] | None = None, rrf_k: int = RRF_K) -> Run:
    """BM25's run fused with a dense run the way `adaptlab search --mode hybrid` fuses (default wsum 0.5/0.5)."""
    return fuse_runs([lexical, semantic], method, weights, rrf_k, depth=k)


def evaluate_hybrid(
    embedder: Embedder,
    dataset: BeirDataset,
    lexical: Run,
    k: int = 100,
    method: str = "wsum",
    weights: Sequence[float] | None = None,
    rrf_k: int = RRF_K,
    batch_size: int = 32,
    cache: DocumentVectorCache | None = None,
    window_weight: float | None = None,
) -> RetrievalResult:
    """`lexical` (BM25's run) fused with the model's exact top-`k`; weights are (BM25, dense)."""
    start = time.perf_counter()
    run = hybrid_run(lexical, dense_run(embedder, dataset, k, batch_size, cache, window_weight), k, method, weights,
                     rrf_k)
    return RetrievalResult(
        dataset.name, hybrid_name(method, embedder.name, weights), ir_metrics(dataset.qrels, run), dataset.stats(),
        time.perf_counter() - start,
    )
