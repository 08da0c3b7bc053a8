"""The compression harness: every method on the same vectors, against float32 exact search.

Per (model, dataset, method): bytes per vector, compression factor vs float32, nDCG@10 and the share of
float32's nDCG@10 it keeps, search latency (all queries in one batch, one thread) and fit time.
Vectors are encoded once per (model, texts) and cached in the workspace.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adaptlab.compress.registry import make_compressor, parse_methods
from adaptlab.compress.vector_cache import VectorCache
from adaptlab.errors import AdaptlabError
from adaptlab.eval.beir import BeirDataset
from adaptlab.eval.metrics import ir_metrics
from adaptlab.eval.retrieval_eval import document_text, resolve_datasets
from adaptlab.jsonio import write_json

if TYPE_CHECKING:
    from adaptlab.pipeline import Session

DEPTH = 10
"""Ranking depth: nDCG@10 needs ten results, and the binary shortlist is DEPTH × oversample."""
SEARCH_NOTE = "all queries in one batch, median of repeats; fit and search on one thread (BLAS, FAISS, torch)"


@dataclass
class MethodResult:
    """One method on one set; `quality_kept` is nDCG@10 / float32's nDCG@10 on the same vectors."""

    model: str
    dataset: str
    method: str
    bytes_per_vector: float
    stored_bytes_per_vector: float
    compression: float
    ndcg_at_10: float
    recall_at_10: float
    quality_kept: float | None
    top10_overlap: float
    ms_per_query: float
    fit_s: float
    documents: int
    queries: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CompressionReport:
    results: list[MethodResult]
    json_path: Path
    plot_path: Path


def evaluate_methods(
    model: str,
    dataset: BeirDataset,
    doc_vecs: np.ndarray,
    query_vecs: np.ndarray,
    methods: Sequence[str],
    repeats: int = 3,
) -> tuple[list[MethodResult], dict[str, str]]:
    """Fit each method on the corpus vectors, search its codes, score the run; float32 always comes first.

    A method the corpus cannot fit (PCA to more dimensions than documents) is skipped with its reason,
    so one small set does not end a run over many.

    Everything runs on one thread, so timings compare methods, not how well each library parallelises
    (and stay stable on a shared machine).
    """
    doc_ids, query_ids = list(dataset.corpus), list(dataset.queries)
    results: list[MethodResult] = []
    skipped: dict[str, str] = {}
    reference: tuple[float, np.ndarray] | None = None
    for spec in parse_methods(list(methods)):
        compressor = make_compressor(spec, doc_vecs.shape[1])
        with single_thread():
            start = time.perf_counter()
            try:
                codes = compressor.fit(doc_vecs).transform(doc_vecs)
            except AdaptlabError as exc:
                skipped[spec] = str(exc)
                continue
            fit_s = time.perf_counter() - start
            index = compressor.index(codes)
            (scores, idx), seconds = _timed_search(index, query_vecs, repeats)
        run = {
            qid: {doc_ids[j]: float(s) for j, s in zip(idx[row], scores[row]) if j >= 0}
            for row, qid in enumerate(query_ids)
        }
        metrics = ir_metrics(dataset.qrels, run)
        if reference is None:  # float32: what every other method is compared with
            reference = (metrics["ndcg@10"], idx)
        ref_ndcg, ref_idx = reference
        results.append(MethodResult(
            model=model,
            dataset=dataset.name,
            method=compressor.name,
            bytes_per_vector=compressor.bytes_per_vector,
            stored_bytes_per_vector=compressor.stored_bytes_per_vector,
            compression=4.0 * doc_vecs.shape[1] / compressor.bytes_per_vector,
            ndcg_at_10=metrics["ndcg@10"],
            recall_at_10=metrics["recall@10"],
            quality_kept=metrics["ndcg@10"] / ref_ndcg if ref_ndcg > 0 else None,
            top10_overlap=_overlap(idx, ref_idx),
            ms_per_query=1000.0 * seconds / max(1, len(query_ids)),
            fit_s=fit_s,
            documents=len(doc_ids),
            queries=len(query_ids),
        ))
    return results, skipped


@contextmanager
def single_thread() -> Iterator[None]:
    """Hold numpy's BLAS, FAISS (OpenMP) and torch to one thread; restore their settings afterwards."""
    import faiss
    import torch
    from threadpoolctl import threadpool_limits

    faiss_threads, torch_threads = faiss.omp_get_max_threads(), torch.get_num_threads()
    faiss.omp_set_num_threads(1)
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        faiss.omp_set_num_threads(faiss_threads)
        torch.set_num_threads(torch_threads)


def _timed_search(index: Any, queries: np.ndarray, repeats: int) -> tuple[tuple[np.ndarray, np.ndarray], float]:
    """The search result of the last repeat and the median wall time over `repeats`."""
    times: list[float] = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        found = index.search(queries, DEPTH)
        times.append(time.perf_counter() - start)
    return found, statistics.median(times)


def _overlap(idx: np.ndarray, ref_idx: np.ndarray) -> float:
    """Mean share of float32's top-k that the method also returns in its top-k."""
    shared = [len(set(a[a >= 0]) & set(b[b >= 0])) / max(1, (b >= 0).sum()) for a, b in zip(idx, ref_idx)]
    return float(np.mean(shared)) if shared else 0.0


def compress(
    session: Session,
    models: Sequence[str],
    datasets: Sequence[str | BeirDataset],
    methods: Sequence[str],
    output: Path | None = None,
    repeats: int = 3,
) -> CompressionReport:
    """The `adaptlab compress` stage: measure, write JSON and the Pareto plot, log one MLflow run."""
    from adaptlab.compress.plot import pareto_plot

    specs = parse_methods(list(methods))
    sets = [one for d in datasets for one in ([d] if isinstance(d, BeirDataset) else resolve_datasets([d]))]
    out_dir = Path(output) if output else session.workspace.results_dir / "compress"
    cache = VectorCache(session.workspace.vector_cache)
    batch_size = session.config.embed.batch_size
    params = {"models": list(models), "datasets": [d.name for d in sets], "methods": specs, "depth": DEPTH}
    results: list[MethodResult] = []
    skips: list[dict[str, str]] = []
    with session.run("compress", params) as run:
        for model in models:
            embedder = session.embedder(model)
            for dataset in sets:
                if session.console:
                    session.console.print(f"compress: {embedder.name} on {dataset.name} ({len(specs)} methods)")
                docs = cache.documents(embedder, [document_text(d) for d in dataset.corpus.values()], batch_size)
                queries = cache.queries(embedder, list(dataset.queries.values()), batch_size)
                found, skipped = evaluate_methods(embedder.name, dataset, docs, queries, specs, repeats)
                results.extend(found)
                for spec, reason in skipped.items():
                    if session.console:
                        session.console.print(f"[yellow]skipped[/yellow] on {dataset.name}: {reason}")
                    skips.append({"model": embedder.name, "dataset": dataset.name, "method": spec, "reason": reason})
                run.log_metrics({f"{_key(r.model, r.dataset, r.method)}/{m}": v for r in found
                                 for m, v in _logged(r).items()})
        payload = {"depth": DEPTH, "search": SEARCH_NOTE, "methods": specs,
                   "datasets": {d.name: d.stats() for d in sets}, "skipped": skips,
                   "results": [r.as_dict() for r in results]}
        json_path = write_json(payload, out_dir / "compression.json")
        plot_path = pareto_plot(results, out_dir / "compression.png")
        run.log_artifact(json_path)
        run.log_artifact(plot_path)
    return CompressionReport(results, json_path, plot_path)


def _logged(result: MethodResult) -> dict[str, float]:
    metrics = {"ndcg@10": result.ndcg_at_10, "compression": result.compression,
               "bytes_per_vector": result.bytes_per_vector, "ms_per_query": result.ms_per_query,
               "fit_s": result.fit_s}
    if result.quality_kept is not None:
        metrics["quality_kept"] = result.quality_kept
    return metrics


def _key(*parts: str) -> str:
    """MLflow metric names allow letters, digits, `_-. /` only (`pca:96` → `pca_96`)."""
    return "/".join(re.sub(r"[^0-9A-Za-z_\-. ]", "_", p) for p in parts)
