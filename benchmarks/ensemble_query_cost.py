"""What a helper costs at query time: a saved ensemble against its first member alone, same queries.

Serving an ensemble encodes every query with each member. This times one query at a time (what `/search`
does per request: p50/p95 ms) and a batch (queries/s) for the ensemble and for its first member (the trained
base) on the queries of an evaluation set, and writes the ratio:

    ADAPTLAB_DATA=../shared/data .venv/bin/python benchmarks/ensemble_query_cost.py -w /tmp/ws-laws \\
        --model laws-e5-use --set laws-heading --out docs/results/ensemble_query_cost.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from adaptlab.eval.retrieval_eval import resolve_datasets
from adaptlab.models.base import Embedder
from adaptlab.pipeline import Session
from adaptlab.train.ensemble import EnsembleEmbedder


def timings(embedder: Embedder, queries: list[str]) -> dict[str, float]:
    embedder.encode_queries(queries[:8])  # warm up: load, first-call allocations
    single = []
    for query in queries:
        start = time.perf_counter()
        embedder.encode_queries([query])
        single.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    embedder.encode_queries(queries, batch_size=32)
    batch = time.perf_counter() - start
    return {"p50_ms": round(float(np.percentile(single, 50)), 2), "p95_ms": round(float(np.percentile(single, 95)), 2),
            "batch_queries_per_s": round(len(queries) / batch, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-w", "--workspace", type=Path, required=True)
    parser.add_argument("--model", required=True, help="a registered ensemble")
    parser.add_argument("--set", default="laws-heading", help="evaluation set whose queries are timed")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    queries = list(resolve_datasets([args.set])[0].queries.values())[: args.queries]
    with Session.open(args.workspace, tracking_uri=None) as session:
        ensemble = session.embedder(args.model)
        if not isinstance(ensemble, EnsembleEmbedder):
            raise SystemExit(f"{args.model}: not an ensemble")
        base = timings(ensemble.members[0], queries)
        joined = timings(ensemble, queries)
    result = {"model": args.model, "set": args.set, "queries": len(queries), "dims": [m.dim for m in ensemble.members],
              "base_alone": base, "ensemble": joined,
              "p50_ratio": round(joined["p50_ms"] / base["p50_ms"], 2),
              "batch_throughput_ratio": round(joined["batch_queries_per_s"] / base["batch_queries_per_s"], 2)}
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
