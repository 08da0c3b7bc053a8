"""Index settings at 1,000,000 vectors: build time, memory, recall@10 against exact search, q/s and latency.

Vectors: encoding a million real texts with MiniLM on two shared cores would take hours, so the million
384-d vectors come from `adaptlab.indexlab.data.synthetic` (the generator of `benchmarks/index_lab.py
--synthetic`): each is a random real MiniLM law-section vector plus Gaussian noise along the real set's
principal axes, scaled by their standard deviations × `--noise`, L2-normalised. Queries are the real
laws-heading queries encoded by MiniLM (VectorCache). Ground truth: FAISS IndexFlatIP, batched.

Rows (adaptlab.indexlab.scale): FLAT (exact baseline), IVF_FLAT / IVF_SQ8 / IVF_PQ (+ float re-ranking) on one
shared coarse quantizer, HNSW (at 1 M only if a trial build extrapolates within budget), binary + float
rescoring, and Milvus Lite (at 1 M only if a 100k insert extrapolates to ≤ 5 min, otherwise at 100k).

    OMP_NUM_THREADS=2 nice -n 10 .venv/bin/python benchmarks/index_1m.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import faiss
import numpy as np
from index_lab import laws_vectors  # benchmarks/ is on sys.path when this script runs

from adaptlab.indexlab.candidates import BuildSpec, _nlist
from adaptlab.indexlab.data import K, LabData, synthetic
from adaptlab.indexlab.engines import MilvusLab
from adaptlab.indexlab.scale import ScaleRow, Timing, flat_index, measure, run_scale, stored_vectors
from adaptlab.jsonio import machine_info, write_json


def rss_gb() -> float:
    with open("/proc/self/status") as fh:
        peak = next(line for line in fh if line.startswith("VmHWM"))
    return round(int(peak.split()[1]) / 1e6, 2)


def milvus_rows(
    vectors: np.ndarray, queries: np.ndarray, trial: int, max_insert_s: float, timing: Timing
) -> tuple[list[ScaleRow], dict[str, Any]]:
    """Milvus Lite: time inserting `trial` vectors; extrapolate to all; measure at the size that fits."""
    with tempfile.TemporaryDirectory(prefix="index-1m-milvus-") as tmp:
        sub = np.ascontiguousarray(vectors[:trial])
        data = LabData(sub, queries, np.zeros(len(sub), dtype=np.int64), 0, f"first {trial}")
        start = time.perf_counter()
        lab = MilvusLab(data, Path(tmp))
        insert_s = time.perf_counter() - start
        estimate = insert_s * len(vectors) / trial
        decision = {
            "trial_vectors": trial,
            "trial_insert_s": round(insert_s, 1),
            "extrapolated_insert_s": round(estimate, 1),
            "max_insert_s": max_insert_s,
        }
        print(
            f"Milvus Lite: {trial} inserted in {insert_s:.0f} s → about {estimate:.0f} s for {len(vectors)}"
        )
        if estimate <= max_insert_s:
            lab.close()
            data = LabData(vectors, queries, np.zeros(len(vectors), dtype=np.int64), 0, "all")
            start = time.perf_counter()
            lab = MilvusLab(data, Path(tmp) / "all")
            decision["insert_s"] = round(time.perf_counter() - start, 1)
        decision["measured_on"] = len(data.vectors)
        truth = data.truth(False)
        rows = []
        nlist = _nlist(len(data.vectors))
        for spec in (BuildSpec("milvus", "AUTOINDEX"), BuildSpec("milvus", "IVF_FLAT", {"nlist": nlist})):
            build_s, per_vector = lab.build(spec)
            for sp in ({},) if spec.index_type == "AUTOINDEX" else ({"nprobe": 16}, {"nprobe": 64}):
                row = measure(
                    f"MILVUS_{spec.index_type}",
                    len(data.vectors),
                    lambda q, sp=sp: lab.search(q, K, sp, False),
                    queries,
                    truth,
                    build_s,
                    per_vector * len(data.vectors),
                    timing,
                    dict(spec.params),
                    sp,
                    note="Milvus Lite; memory is the layout estimate (Milvus Lite does not report it); build_s "
                    "excludes the insert",
                )
                rows.append(row)
                print(f"  {row.index} {sp}: recall@10 {row.recall_at_10:.3f}, {row.qps_1:.0f} q/s batch 1")
        lab.close()
    return rows, decision


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--model", default="minilm")
    p.add_argument("--noise", type=float, default=0.6)
    p.add_argument("--queries", type=int, default=500, help="real heading queries used (batched; recall)")
    p.add_argument("--singles", type=int, default=200, help="queries timed one at a time (p50/p99)")
    p.add_argument("--nlist", type=int, default=4096)
    p.add_argument("--pq-m", type=int, default=48)
    p.add_argument("--hnsw-trial", type=int, default=200_000)
    p.add_argument("--hnsw-max-build-s", type=float, default=300.0)
    p.add_argument("--milvus-trial", type=int, default=100_000)
    p.add_argument("--milvus-max-insert-s", type=float, default=300.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cache-dir", type=Path, default=Path(".adaptlab/bench-index-lab"))
    p.add_argument("--output", type=Path, default=Path("docs/results/index_1m.json"))
    args = p.parse_args(argv)

    faiss.omp_set_num_threads(args.threads)
    started, load_before = time.perf_counter(), os.getloadavg()
    docs, queries, _ = laws_vectors(args.cache_dir, args.model)
    queries = np.ascontiguousarray(queries[: args.queries], dtype=np.float32)
    t = time.perf_counter()
    vectors = synthetic(docs, args.n, args.noise)
    gen_s = time.perf_counter() - t
    print(f"{args.n} synthetic vectors in {gen_s:.0f} s; {len(queries)} real queries", flush=True)
    timing = Timing(batch=100, singles=args.singles)
    flat = flat_index(vectors)
    del vectors  # the flat index holds the only copy from here on
    gc.collect()
    out = run_scale(
        flat,
        queries,
        nlist=args.nlist,
        pq_m=args.pq_m,
        timing=timing,
        hnsw=(16, 100),
        hnsw_trial=args.hnsw_trial,
        hnsw_max_build_s=args.hnsw_max_build_s,
        progress=lambda m: print(m, flush=True),
    )
    stored = stored_vectors(out["flat"])
    milvus, milvus_decision = milvus_rows(
        stored, queries, args.milvus_trial, args.milvus_max_insert_s, timing
    )
    rows: list[ScaleRow] = out["rows"] + milvus
    base = next(r for r in rows if r.index == "FLAT" and r.vectors == args.n)
    payload = {
        "benchmark": "index_1m",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            **machine_info(
                load_before,
                "2 CPU cores shared with other agents and a CI run (see load averages): absolute seconds and "
                "q/s are low and noisy; compare ratios to FLAT within this run. Batch-1 q/s is 1000 / p50.",
            ),
            "faiss_threads": args.threads,
            "peak_rss_gb": rss_gb(),
        },
        "libraries": {lib: version(lib) for lib in ("faiss-cpu", "numpy", "pymilvus", "milvus-lite")},
        "vectors": {
            "n": args.n,
            "dim": int(docs.shape[1]),
            "how": "synthetic (encoding 1 M real texts is too slow on 2 shared cores): each = a random real "
            f"laws-section MiniLM vector + Gaussian noise along the real set's principal axes × {args.noise}, "
            "L2-normalised (adaptlab.indexlab.data.synthetic)",
            "real_vectors_seeded_from": len(docs),
            "generate_s": round(gen_s, 1),
        },
        "queries": {"n": len(queries), "source": "laws-heading-all real heading queries, MiniLM"},
        "k": K,
        "shared_coarse_quantizer_s": out["shared_build_s"],
        "coarse_quantizer": f"two-level spherical k-means ({args.nlist} lists) on a 131,072 sample (32 per list; FAISS warns below 39), HNSW(32) over "
        "the centroids, every vector assigned once and shared by IVF_FLAT, IVF_SQ8, IVF_PQ (their build_s "
        "includes it)",
        "hnsw": out["hnsw"],
        "milvus": milvus_decision,
        "rows": [
            {
                **r.as_dict(),
                "qps_1_vs_flat": round(r.qps_1 / base.qps_1, 1),
                "qps_batch_vs_flat": round(r.qps_batch / base.qps_batch, 1),
                "memory_vs_flat": round(r.memory_mb / base.memory_mb, 3),
            }
            for r in rows
        ],
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_json(payload, args.output)
    print(
        f"wrote {args.output} in {payload['seconds']:.0f} s, peak RSS {payload['machine']['peak_rss_gb']} GB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
