"""The sweep: build each index, time every search setting at batch 1 and batched, with and without a filter,
score recall@10 against exact search, and pick the fastest Milvus setting that meets the recall target."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.indexlab.cache import QueryCache
from adaptlab.indexlab.candidates import BuildSpec
from adaptlab.indexlab.data import K, LabData, recall_at_k
from adaptlab.indexlab.engines import FaissLab, MilvusLab

RANK_KEYS = ("qps_1", "qps_batch")


@dataclass
class LabResult:
    """One (index, search setting): recall@10 vs exact search and speed, unfiltered and filtered."""

    engine: str
    index_type: str
    label: str
    params: dict[str, Any]
    search_params: dict[str, Any]
    build_s: float
    bytes_per_vector: float
    recall_at_10: float
    qps_1: float
    p50_ms: float
    p99_ms: float
    qps_batch: float
    filtered_recall_at_10: float
    filtered_qps_1: float
    filtered_p50_ms: float
    filtered_p99_ms: float
    filtered_qps_batch: float
    note: str = ""

    @property
    def setting(self) -> str:
        searched = ",".join(f"{k}={v}" for k, v in self.search_params.items())
        return f"{self.label} {searched}".strip()

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "setting": self.setting}


@dataclass
class LabReport:
    data: dict[str, Any]
    results: list[LabResult]
    recommended: LabResult | None
    baseline: LabResult | None
    target: float
    rank_by: str
    cache: dict[str, Any] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    confirm: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        rec, base = self.recommended, self.baseline
        return {
            "data": self.data,
            "recall_target": self.target,
            "rank_by": self.rank_by,
            "k": K,
            "recommended": rec.as_dict() if rec else None,
            "baseline_autoindex": base.as_dict() if base else None,
            "sweep_speedup_vs_autoindex": round(getattr(rec, self.rank_by) / getattr(base, self.rank_by), 2)
            if rec and base
            else None,
            "paired_vs_autoindex": self.confirm,
            "cache": self.cache,
            "skipped": self.skipped,
            "results": [r.as_dict() for r in self.results],
        }


def time_search(
    search: Callable[[np.ndarray, bool], np.ndarray],
    queries: np.ndarray,
    filtered: bool,
    batch: int,
    singles: int,
) -> tuple[np.ndarray, dict[str, float]]:
    """All queries in batches of `batch` (throughput, and the ids scored for recall), then the first `singles`
    one at a time (latency percentiles; batch-1 q/s is 1000 / p50 ms)."""
    found = []
    start = time.perf_counter()
    for i in range(0, len(queries), batch):
        found.append(search(queries[i : i + batch], filtered))
    batch_s = time.perf_counter() - start
    latencies = []
    for q in queries[:singles]:
        t = time.perf_counter()
        search(q[None, :], filtered)
        latencies.append(time.perf_counter() - t)
    ms = np.array(latencies) * 1000
    p50 = float(np.percentile(ms, 50))
    # batch-1 q/s from the median latency: one stall from another process must not decide a ranking
    return np.vstack(found), {
        "qps_batch": len(queries) / batch_s,
        "qps_1": 1000.0 / p50 if p50 > 0 else 0.0,
        "p50_ms": p50,
        "p99_ms": float(np.percentile(ms, 99)),
    }


def run_lab(
    data: LabData,
    grid: Sequence[BuildSpec],
    folder: Path | None = None,
    batch: int = 100,
    singles: int = 50,
    progress: Callable[[str], None] | None = None,
    target: float = 0.95,
    rank_by: str = "qps_1",
    pairs: int = 200,
) -> tuple[list[LabResult], list[dict[str, str]], dict[str, Any], dict[str, Any]]:
    """Every build spec of `grid` × its search settings, then the query cache measured on the recommended
    setting (rebuilt at the end). A build the engine rejects is skipped with its reason."""
    tmp = tempfile.TemporaryDirectory(prefix="index-lab-") if folder is None else None
    root = Path(tmp.name) if tmp else Path(folder)  # type: ignore[arg-type]
    results: list[LabResult] = []
    skipped: list[dict[str, str]] = []
    engines: dict[str, Any] = {}
    truth = {False: data.truth(False), True: data.truth(True)}
    try:
        for spec in grid:
            if spec.engine not in engines:
                if progress:
                    progress(f"loading {len(data.vectors)} vectors into {spec.engine}")
                engines[spec.engine] = (
                    MilvusLab(data, root / "milvus") if spec.engine == "milvus" else FaissLab(data)
                )
            engine = engines[spec.engine]
            try:
                build_s, nbytes = engine.build(spec)
            except Exception as exc:  # an engine's refusal (bad params for this n) must not end the sweep
                reason = str(getattr(exc, "message", None) or exc).splitlines()[0]
                skipped.append({"setting": spec.label, "reason": reason})
                continue
            for search_params in spec.searches:
                measured: dict[bool, tuple[float, dict[str, float]]] = {}
                for filtered in (False, True):
                    ids, speed = time_search(
                        lambda q, f, sp=search_params, eng=engine: eng.search(q, K, sp, f),
                        data.queries,
                        filtered,
                        batch,
                        singles,
                    )
                    measured[filtered] = (recall_at_k(ids, truth[filtered]), speed)
                (recall, speed), (f_recall, f_speed) = measured[False], measured[True]
                result = LabResult(
                    engine=spec.engine,
                    index_type=spec.index_type,
                    label=spec.label,
                    params=dict(spec.params),
                    search_params=dict(search_params),
                    build_s=round(build_s, 3),
                    bytes_per_vector=round(nbytes, 1),
                    recall_at_10=round(recall, 4),
                    qps_1=round(float(speed["qps_1"]), 1),
                    p50_ms=round(speed["p50_ms"], 2),
                    p99_ms=round(speed["p99_ms"], 2),
                    qps_batch=round(speed["qps_batch"], 1),
                    filtered_recall_at_10=round(f_recall, 4),
                    filtered_qps_1=round(float(f_speed["qps_1"]), 1),
                    filtered_p50_ms=round(f_speed["p50_ms"], 2),
                    filtered_p99_ms=round(f_speed["p99_ms"], 2),
                    filtered_qps_batch=round(f_speed["qps_batch"], 1),
                    note="rescored from the float32 vectors (kept outside the index)"
                    if spec.index_type == "BINARY" and search_params.get("rescore")
                    else "",
                )
                results.append(result)
                if progress:
                    progress(
                        f"{result.setting}: recall@10 {result.recall_at_10:.3f}, {result.qps_1:.0f} q/s at batch 1, "
                        f"{result.qps_batch:.0f} q/s batched"
                    )
        confirm, cache = _confirm_and_cache(
            engines.get("milvus"), grid, results, data, target, rank_by, pairs
        )
    finally:
        for engine in engines.values():
            engine.close()
        if tmp:
            tmp.cleanup()
    return results, skipped, confirm, cache


def _confirm_and_cache(
    engine: MilvusLab | None,
    grid: Sequence[BuildSpec],
    results: list[LabResult],
    data: LabData,
    target: float,
    rank_by: str,
    pairs: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Re-measure the recommendation against AUTOINDEX side by side, then the query cache on it.

    Both indexes live at once (a second collection holds AUTOINDEX) and queries alternate between them, so
    load from other processes hits both alike: the paired speed-up is what the recommendation rests on.
    """
    best, base = recommend(results, target, rank_by)
    if engine is None or best is None:
        return {}, {}
    spec = next(s for s in grid if s.engine == "milvus" and s.label == best.label)
    engine.build(spec)
    confirm: dict[str, Any] = {}
    if base is not None and best is not base:
        other = MilvusLab(data, Path("."), collection=f"{engine.name}_autoindex", client=engine.client)
        other.build(BuildSpec("milvus", "AUTOINDEX"))
        confirm = paired_speed(
            lambda q: engine.search(q, K, best.search_params, False),
            lambda q: other.search(q, K, {}, False),
            data.queries,
            pairs,
        )
        confirm = {"setting": best.setting, "baseline": "AUTOINDEX", **confirm}
        confirm["in_memory"] = in_memory_speed(data, lambda q: other.search(q, K, {}, False), pairs)
        engine.client.drop_collection(other.name)
    stats = measure_cache(
        lambda q, k, f: engine.search(q[None, :], k, best.search_params, False), data.queries
    )
    return confirm, {"setting": best.setting, **stats}


def in_memory_speed(data: LabData, autoindex: Callable[[np.ndarray], Any], pairs: int) -> dict[str, Any]:
    """What `search.in_memory` gives unfiltered searches: the serving process's copy of the vectors
    (`vectors.replica`: exact by one matrix product up to 200,000 vectors) against Milvus Lite's
    AUTOINDEX, side by side, with its recall@10 against exact search. Filtered searches keep going to Milvus (the recommended index)."""
    from adaptlab.vectors.replica import VectorReplica

    start = time.perf_counter()
    replica = VectorReplica([str(i) for i in range(len(data.vectors))], data.vectors)
    build_s = time.perf_counter() - start
    found = replica.search(data.queries, K)
    ids = np.array([[int(cid) for cid, _ in hits] + [-1] * (K - len(hits)) for hits in found])
    speed = paired_speed(lambda q: replica.search(q, K), autoindex, data.queries, pairs)
    return {"setting": "search.in_memory (in-process copy in the serving process)", "baseline": "AUTOINDEX",
            "recall_at_10": round(recall_at_k(ids, data.truth(False)), 4), "build_s": round(build_s, 3),
            "bytes_per_vector": 4 * data.dim, **speed}


def paired_speed(
    a: Callable[[np.ndarray], Any],
    b: Callable[[np.ndarray], Any],
    queries: np.ndarray,
    pairs: int,
    batch: int = 100,
) -> dict[str, float]:
    """Batch-1 latency medians and batched q/s of two searchers, calls alternating (order swapped each round)."""
    lat: dict[str, list[float]] = {"a": [], "b": []}
    for i in range(pairs):
        q = queries[i % len(queries)][None, :]
        order = (("a", a), ("b", b)) if i % 2 == 0 else (("b", b), ("a", a))
        for key, fn in order:
            t = time.perf_counter()
            fn(q)
            lat[key].append(time.perf_counter() - t)
    spent = {"a": 0.0, "b": 0.0}
    for i, start in enumerate(range(0, len(queries), batch)):
        chunk = queries[start : start + batch]
        order = (("a", a), ("b", b)) if i % 2 == 0 else (("b", b), ("a", a))
        for key, fn in order:
            t = time.perf_counter()
            fn(chunk)
            spent[key] += time.perf_counter() - t
    p50 = {k: float(np.median(v)) * 1000 for k, v in lat.items()}
    return {
        "pairs": pairs,
        "p50_ms": round(p50["a"], 2),
        "baseline_p50_ms": round(p50["b"], 2),
        "speedup_qps_1": round(p50["b"] / p50["a"], 2),
        "qps_batch": round(len(queries) / spent["a"], 1),
        "baseline_qps_batch": round(len(queries) / spent["b"], 1),
        "speedup_qps_batch": round(spent["b"] / spent["a"], 2),
    }


def recommend(
    results: Sequence[LabResult], target: float = 0.95, rank_by: str = "qps_1"
) -> tuple[LabResult | None, LabResult | None]:
    """(fastest Milvus setting with recall@10 ≥ target, filtered too; the AUTOINDEX baseline).

    Only Milvus settings are recommended because only they can be written into the experiment config and
    applied to the collection; FAISS rows show what PQ and binary codes would give.
    """
    if rank_by not in RANK_KEYS:
        raise ValueError(f"rank_by must be one of {RANK_KEYS}")
    ok = [
        r
        for r in results
        if r.engine == "milvus" and r.recall_at_10 >= target and r.filtered_recall_at_10 >= target
    ]
    best = max(ok, key=lambda r: (getattr(r, rank_by), -r.bytes_per_vector), default=None)
    baseline = next((r for r in results if r.index_type == "AUTOINDEX"), None)
    return best, baseline


def frontier(results: Sequence[LabResult], rank_by: str = "qps_1") -> list[LabResult]:
    """Pareto front: settings no other setting beats on both recall@10 and speed."""
    ordered = sorted(results, key=lambda r: (-getattr(r, rank_by), -r.recall_at_10))
    front, best = [], -1.0
    for r in ordered:
        if r.recall_at_10 > best:
            front.append(r)
            best = r.recall_at_10
    return front


def measure_cache(
    search: Callable[[np.ndarray, int, str | None], Any],
    queries: np.ndarray,
    calls: int = 300,
    seed: int = 0,
    maxsize: int = 256,
) -> dict[str, float]:
    """A repeated-query workload (Zipf-distributed over the queries, as real search logs are) with and
    without the LRU cache in front of the same search function."""
    rng = np.random.default_rng(seed)
    picks = np.minimum(rng.zipf(1.3, size=calls) - 1, len(queries) - 1)
    start = time.perf_counter()
    for i in picks:
        search(queries[i], K, None)
    plain = time.perf_counter() - start
    cache: QueryCache[Any] = QueryCache(search, maxsize=maxsize)
    start = time.perf_counter()
    for i in picks:
        cache(queries[i], K, None)
    cached = time.perf_counter() - start
    return {
        "calls": calls,
        "distinct_queries": int(len(set(picks.tolist()))),
        "hit_rate": round(cache.hit_rate, 3),
        "qps_without_cache": round(calls / plain, 1),
        "qps_with_cache": round(calls / cached, 1),
        "speedup": round(plain / cached, 2),
    }
