"""How many candidates each retriever must hand to hybrid fusion: nDCG@10 by depth, in one run.

Serving fetches `candidates` hits from BM25 and from the dense index per query before fusing; Milvus
returns 100 hits far slower than 10-30 (gRPC payload and the HNSW beam), so the depth is the main
latency lever of hybrid search. This measures what a smaller depth costs in quality: BM25 and MiniLM
exact runs at depth 100, each cut to the depth under test, fused (wsum 0.5/0.5, as served), nDCG@10.

    .venv/bin/python benchmarks/hybrid_candidates.py      # → docs/results/hybrid_candidates.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from adaptlab.eval.hybrid_eval import bm25_run
from adaptlab.eval.metrics import ir_metrics
from adaptlab.eval.retrieval_eval import DocumentVectorCache, dense_run, resolve_datasets
from adaptlab.jsonio import write_json
from adaptlab.models.loading import load_embedder
from adaptlab.retrieval.fusion import fuse_runs

SETS = ("xquad-en-en", "xquad-de-de", "xquad-de-en", "laws-heading")
DEPTHS = (10, 20, 30, 50, 100)
OUT = Path(__file__).resolve().parent.parent / "docs" / "results" / "hybrid_candidates.json"


def cut(run: dict[str, dict[str, float]], depth: int) -> dict[str, dict[str, float]]:
    return {q: dict(sorted(hits.items(), key=lambda kv: kv[1], reverse=True)[:depth]) for q, hits in run.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    embedder = load_embedder(args.model, Path(".adaptlab/cache"))
    cache = DocumentVectorCache()
    table: dict[str, dict[str, float]] = {}
    for dataset in resolve_datasets(list(SETS)):
        lexical, semantic = bm25_run(dataset, 100), dense_run(embedder, dataset, 100, 32, cache)
        row = {}
        for depth in DEPTHS:
            fused = fuse_runs([cut(lexical, depth), cut(semantic, depth)], "wsum", None, depth=depth)
            row[str(depth)] = round(ir_metrics(dataset.qrels, fused)["ndcg@10"], 4)
        table[dataset.name] = row
        print(dataset.name, row)
    write_json({"date": dt.date.today().isoformat(), "model": args.model, "fusion": "wsum 0.5/0.5",
                "ndcg@10_by_candidates": table}, args.out)


if __name__ == "__main__":
    main()
