"""Index settings at a million vectors, built so they fit two shared cores: one coarse quantizer for all IVFs.

At 1 M vectors the IVF coarse k-means and the assignment of every vector to a list dominate the build. FAISS'
recipe for large `nlist` is used once and shared: two-level k-means (`faiss.contrib.clustering`) for the
centroids, an HNSW index over the centroids as the quantizer, each vector assigned once, and IVF_FLAT,
IVF_SQ8 and IVF_PQ filled with those assignments (`faiss.contrib.ivf_tools.add_preassigned`). Each row's
`build_s` includes that shared part (`shared_build_s`), so rows compare like separate builds.

The exact index (FAISS `IndexFlatIP`) is the baseline, the ground truth (batched), and the float store that
re-ranks IVF_PQ candidates (`IndexRefine`) and binary candidates (the index lab's `FaissLab`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import faiss
import numpy as np

from adaptlab.indexlab.candidates import BuildSpec
from adaptlab.indexlab.data import K, LabData, recall_at_k
from adaptlab.indexlab.engines import FaissLab
from adaptlab.indexlab.lab import time_search

Search = Callable[[np.ndarray], np.ndarray]


@dataclass
class ScaleRow:
    """One (index, search setting) at scale: recall@10 against exact search and speed."""

    index: str
    params: dict[str, Any]
    search_params: dict[str, Any]
    vectors: int
    build_s: float
    memory_mb: float
    recall_at_10: float
    qps_1: float
    p50_ms: float
    p99_ms: float
    qps_batch: float
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Timing:
    """How queries are timed: all of them in batches of `batch`, then the first `singles` one at a time."""

    batch: int = 100
    singles: int = 200


def measure_ids(
    index: str,
    n: int,
    search: Search,
    queries: np.ndarray,
    truth: np.ndarray,
    build_s: float,
    nbytes: float,
    timing: Timing,
    params: dict[str, Any] | None = None,
    search_params: dict[str, Any] | None = None,
    note: str = "",
    singles: int | None = None,
) -> ScaleRow:
    """Time `search` with the index lab's `time_search`, score its batched answers against `truth`; (row, ids)."""
    threads = faiss.omp_get_max_threads()

    def timed(q: np.ndarray, _filtered: bool) -> np.ndarray:
        # one query runs on one thread: on loaded shared cores an OpenMP barrier waits a scheduler slice
        faiss.omp_set_num_threads(1 if len(q) == 1 else threads)
        return search(q)

    try:
        found, speed = time_search(timed, queries, False, timing.batch, singles or timing.singles)
    finally:
        faiss.omp_set_num_threads(threads)
    row = ScaleRow(
        index=index,
        params=params or {},
        search_params=search_params or {},
        vectors=n,
        build_s=round(build_s, 2),
        memory_mb=round(nbytes / 1e6, 3),
        recall_at_10=round(recall_at_k(found, truth), 4),
        qps_1=round(speed["qps_1"], 1),
        p50_ms=round(speed["p50_ms"], 3),
        p99_ms=round(speed["p99_ms"], 3),
        qps_batch=round(speed["qps_batch"], 1),
        note=note,
    )
    return row, found


def measure(*args: Any, **kwargs: Any) -> ScaleRow:
    """`measure_ids` without the ids."""
    return measure_ids(*args, **kwargs)[0]


def flat_index(vectors: np.ndarray) -> tuple[faiss.IndexFlatIP, float]:
    """The exact index (a copy of the vectors) and its build seconds."""
    start = time.perf_counter()
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return flat, time.perf_counter() - start


def stored_vectors(flat: faiss.IndexFlat) -> np.ndarray:
    """A zero-copy numpy view of the flat index's vectors, so the caller can free its own array."""
    return faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d)


def search_fn(index: faiss.Index, k: int = K, params: Any = None) -> Search:
    return lambda q: index.search(np.ascontiguousarray(q, dtype=np.float32), k, params=params)[1]


def index_bytes(index: faiss.Index) -> float:
    """Memory the index holds: codes, list ids, graph links and the coarse quantizer. Counted from the
    structures rather than serialised, so a 1.5 GB index is not copied just to be measured."""
    if isinstance(index, faiss.IndexIVF):
        return float(index.ntotal * (index.code_size + 8)) + index_bytes(index.quantizer)
    if isinstance(index, faiss.IndexHNSW):
        graph = index.hnsw.neighbors.size() * 4 + index.hnsw.levels.size() * 4 + index.hnsw.offsets.size() * 8
        return float(graph) + index_bytes(index.storage)
    if isinstance(index, faiss.IndexFlatCodes):
        return float(index.ntotal * index.code_size)
    return float(len(faiss.serialize_index(index)))


@dataclass
class Coarse:
    """The shared IVF coarse quantizer and every vector's list."""

    quantizer: faiss.IndexHNSWFlat
    assign: np.ndarray
    nlist: int
    seconds: float


def coarse(vectors: np.ndarray, nlist: int, sample: int, seed: int = 0, niter: int = 10) -> Coarse:
    """Two-level k-means on a sample → HNSW over the centroids → one assignment per vector."""
    from faiss.contrib.clustering import two_level_clustering

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(vectors), size=min(sample, len(vectors)), replace=False))
    train = np.ascontiguousarray(vectors[rows])
    nc1 = max(2, round(nlist**0.5))
    centroids, _ = two_level_clustering(train, nc1, nlist, clustering_niter=niter, spherical=True, seed=seed)
    quantizer = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    quantizer.hnsw.efConstruction = 80
    quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
    quantizer.hnsw.efSearch = 128
    _, assign = quantizer.search(np.ascontiguousarray(vectors), 1)
    return Coarse(quantizer, assign.ravel(), len(centroids), time.perf_counter() - start)


def ivf_index(
    kind: str, vectors: np.ndarray, shared: Coarse, sample: np.ndarray, pq_m: int = 48
) -> tuple[Any, float]:
    """IVF_FLAT, IVF_SQ8 or IVF_PQ on the shared quantizer: trains its own codec on `sample`, adds preassigned."""
    from faiss.contrib.ivf_tools import add_preassigned

    start = time.perf_counter()
    dim, ip = vectors.shape[1], faiss.METRIC_INNER_PRODUCT
    if kind == "IVF_FLAT":
        index = faiss.IndexIVFFlat(shared.quantizer, dim, shared.nlist, ip)
    elif kind == "IVF_SQ8":
        index = faiss.IndexIVFScalarQuantizer(
            shared.quantizer, dim, shared.nlist, faiss.ScalarQuantizer.QT_8bit, ip
        )
    elif kind == "IVF_PQ":
        index = faiss.IndexIVFPQ(shared.quantizer, dim, shared.nlist, pq_m, 8, ip)
    else:
        raise ValueError(f"unknown IVF kind {kind}")
    index.train(np.ascontiguousarray(sample))  # quantizer is trained already: only the codec learns here
    for begin in range(0, len(vectors), 100_000):
        block = np.ascontiguousarray(vectors[begin : begin + 100_000])
        add_preassigned(index, block, shared.assign[begin : begin + 100_000])
    return index, time.perf_counter() - start


def ivf_rows(
    vectors: np.ndarray,
    flat: faiss.IndexFlat,
    queries: np.ndarray,
    truth: np.ndarray,
    shared: Coarse,
    nprobes: tuple[int, ...],
    timing: Timing,
    pq_m: int = 48,
    refine: int = 10,
    sample: int = 65_536,
    progress: Callable[[str], None] = print,
) -> list[ScaleRow]:
    """IVF_FLAT, IVF_SQ8 and IVF_PQ (plain and re-ranked by the float vectors) at each nprobe."""
    rng = np.random.default_rng(1)
    train = np.ascontiguousarray(
        vectors[np.sort(rng.choice(len(vectors), min(sample, len(vectors)), replace=False))]
    )
    rows: list[ScaleRow] = []
    for kind in ("IVF_FLAT", "IVF_SQ8", "IVF_PQ"):
        index, own_s = ivf_index(kind, vectors, shared, train, pq_m)
        build_s = shared.seconds + own_s
        nbytes = index_bytes(index)  # lists and codes plus the HNSW quantizer over the centroids
        params = {"nlist": shared.nlist, **({"m": pq_m, "nbits": 8} if kind == "IVF_PQ" else {})}
        progress(f"{kind} built in {build_s:.0f} s ({shared.seconds:.0f} s shared coarse quantizer)")
        for nprobe in nprobes:
            p = faiss.SearchParametersIVF(nprobe=nprobe)
            rows.append(
                measure(
                    kind,
                    len(vectors),
                    search_fn(index, K, p),
                    queries,
                    truth,
                    build_s,
                    nbytes,
                    timing,
                    params,
                    {"nprobe": nprobe},
                )
            )
            progress(_line(rows[-1]))
            if kind == "IVF_PQ" and refine:
                refined = faiss.IndexRefine(index, flat)
                rp = faiss.IndexRefineSearchParameters(k_factor=float(refine), base_index_params=p)
                rows.append(
                    measure(
                        kind,
                        len(vectors),
                        search_fn(refined, K, rp),
                        queries,
                        truth,
                        build_s,
                        nbytes,
                        timing,
                        params,
                        {"nprobe": nprobe, "refine_k_factor": refine},
                        note="top k×refine PQ candidates re-ranked by the float32 vectors (kept "
                        "outside the index, not counted in memory_mb)",
                    )
                )
                progress(_line(rows[-1]))
        del index
    return rows


def hnsw_index(vectors: np.ndarray, m: int, ef_construction: int) -> tuple[faiss.IndexHNSWFlat, float]:
    start = time.perf_counter()
    index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    for begin in range(0, len(vectors), 100_000):
        index.add(np.ascontiguousarray(vectors[begin : begin + 100_000]))
    return index, time.perf_counter() - start


def hnsw_rows(
    index: faiss.IndexHNSWFlat,
    build_s: float,
    m: int,
    ef_construction: int,
    efs: tuple[int, ...],
    queries: np.ndarray,
    truth: np.ndarray,
    timing: Timing,
    note: str = "",
    progress: Callable[[str], None] = print,
) -> list[ScaleRow]:
    rows = []
    nbytes = index_bytes(index)
    for ef in efs:
        p = faiss.SearchParametersHNSW(efSearch=ef)
        rows.append(
            measure(
                "HNSW",
                index.ntotal,
                search_fn(index, K, p),
                queries,
                truth,
                build_s,
                nbytes,
                timing,
                {"M": m, "efConstruction": ef_construction},
                {"ef": ef},
                note,
            )
        )
        progress(_line(rows[-1]))
    return rows


def hnsw_at_scale(
    vectors: np.ndarray,
    hnsw: tuple[int, int],
    efs: tuple[int, ...],
    queries: np.ndarray,
    truth: np.ndarray,
    timing: Timing,
    trial: int,
    max_build_s: float,
    progress: Callable[[str], None] = print,
) -> tuple[list[ScaleRow], dict[str, Any]]:
    """Build HNSW on the first `trial` vectors; extrapolate to all (n·log n); build on all only if that fits
    `max_build_s`, otherwise report the trial's rows against exact search over the same `trial` vectors."""
    n, m, efc = len(vectors), *hnsw
    if trial >= n:
        index, build_s = hnsw_index(vectors, m, efc)
        return hnsw_rows(index, build_s, m, efc, efs, queries, truth, timing, progress=progress), {
            "built_on": n,
            "build_s": round(build_s, 1),
        }
    part = vectors[:trial]
    index, trial_s = hnsw_index(part, m, efc)
    estimate = trial_s * (n / trial) * np.log(n) / np.log(trial)
    decision = {
        "trial_vectors": trial,
        "trial_build_s": round(trial_s, 3),  # a small trial builds in well under 0.1 s on a fast core
        "extrapolated_build_s": round(estimate, 3),
        "extrapolation": "trial seconds × (n / trial) × log n / log trial",
        "max_build_s": max_build_s,
    }
    progress(f"HNSW trial: {trial} vectors in {trial_s:.0f} s → about {estimate:.0f} s for {n}")
    if estimate <= max_build_s:
        del index
        index, build_s = hnsw_index(vectors, m, efc)
        decision.update(built_on=n, build_s=round(build_s, 1))
        return hnsw_rows(index, build_s, m, efc, efs, queries, truth, timing, progress=progress), decision
    sub_flat, sub_s = flat_index(part)
    sub_truth = sub_flat.search(np.ascontiguousarray(queries), K)[1]
    note = f"built on the first {trial} vectors only: {n} would take about {estimate:.0f} s (> {max_build_s:.0f} s)"
    rows = [
        measure(
            "FLAT",
            trial,
            search_fn(sub_flat),
            queries,
            sub_truth,
            sub_s,
            index_bytes(sub_flat),
            timing,
            note=f"exact search over the same {trial} vectors, for the HNSW rows beside it",
            singles=50,
        )
    ]
    del sub_flat
    rows += hnsw_rows(index, trial_s, m, efc, efs, queries, sub_truth, timing, note, progress)
    decision["built_on"] = trial
    return rows, decision


def binary_rows(
    vectors: np.ndarray,
    queries: np.ndarray,
    truth: np.ndarray,
    rescores: tuple[int, ...],
    timing: Timing,
    progress: Callable[[str], None] = print,
) -> list[ScaleRow]:
    """Sign bits searched by Hamming distance (the index lab's FaissLab), optionally rescored by float32."""
    data = LabData(vectors, queries, np.zeros(1, dtype=np.int64), 1, "scale")  # no filtered runs here
    lab = FaissLab(data)
    build_s, per_vector = lab.build(BuildSpec("faiss", "BINARY"))
    rows = []
    for r in rescores:
        note = f"Hamming top {K}×{r} rescored by the float32 vectors (kept outside the index)" if r else ""
        rows.append(
            measure(
                "BINARY",
                len(vectors),
                lambda q, r=r: lab.search(q, K, {"rescore": r}, False),
                queries,
                truth,
                build_s,
                per_vector * len(vectors),
                timing,
                {},
                {"rescore": r},
                note,
            )
        )
        progress(_line(rows[-1]))
    lab.close()
    return rows


def _line(row: ScaleRow) -> str:
    searched = ",".join(f"{k}={v}" for k, v in row.search_params.items())
    return (
        f"  {row.index} {searched}: recall@10 {row.recall_at_10:.3f}, {row.qps_1:.0f} q/s batch 1 "
        f"(p99 {row.p99_ms:.1f} ms), {row.qps_batch:.0f} q/s batched"
    )


def run_scale(
    vectors: np.ndarray | tuple[faiss.IndexFlat, float],
    queries: np.ndarray,
    nlist: int,
    nprobes: tuple[int, ...] = (8, 32, 64),
    efs: tuple[int, ...] = (32, 64, 128),
    hnsw: tuple[int, int] | None = (16, 100),
    rescores: tuple[int, ...] = (0, 4, 10),
    pq_m: int = 48,
    coarse_sample: int = 131_072,
    timing: Timing | None = None,
    flat_singles: int = 50,
    hnsw_trial: int = 200_000,
    hnsw_max_build_s: float = 300.0,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Every row on `vectors`, or on an exact index already built from them (with its build seconds), so a
    caller at 1 M vectors can free its own array: the flat index's storage is then the only copy.

    Returns the rows, the exact index (still needed by the caller for more rows) and the ground truth."""
    timing = timing or Timing()
    flat, flat_s = flat_index(vectors) if isinstance(vectors, np.ndarray) else vectors
    stored = stored_vectors(flat)
    progress(
        f"FLAT: {flat.ntotal} vectors in {flat_s:.1f} s; exact search of {len(queries)} queries for the truth"
    )
    # the exact index's batched answers are the ground truth (checked against numpy in the unit test), so the
    # million-vector scan runs once: FLAT's recall is 1.0 by definition
    flat_row, truth = measure_ids(
        "FLAT",
        flat.ntotal,
        search_fn(flat),
        queries,
        np.zeros((len(queries), K), dtype=np.int64),
        flat_s,
        index_bytes(flat),
        timing,
        note="exact inner product: the baseline and the ground truth",
        singles=flat_singles,
    )
    flat_row.recall_at_10 = round(recall_at_k(truth, truth), 4)
    rows = [flat_row]
    progress(_line(rows[-1]))
    shared = coarse(stored, nlist, coarse_sample)
    progress(f"coarse quantizer: {shared.nlist} lists in {shared.seconds:.0f} s")
    rows += ivf_rows(stored, flat, queries, truth, shared, nprobes, timing, pq_m, progress=progress)
    decision: dict[str, Any] = {}
    if hnsw:
        hnsw_part, decision = hnsw_at_scale(
            stored, hnsw, efs, queries, truth, timing, hnsw_trial, hnsw_max_build_s, progress
        )
        rows += hnsw_part
    rows += binary_rows(stored, queries, truth, rescores, timing, progress)
    return {
        "rows": rows,
        "flat": flat,
        "truth": truth,
        "shared_build_s": round(shared.seconds, 2),
        "hnsw": decision,
    }
