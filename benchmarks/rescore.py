"""Second-stage rescoring on top of hybrid search: does a second embedding model add to BM25 + the served one?

The cross-encoder that `adaptlab finetune-reranker` can train on 2 CPU cores is too weak to help (see
benchmarks/rerank.py), so this measures the issue's fallback, bi-encoder rescoring, as it is served:
first stage = hybrid wsum 0.5/0.5 over BM25 and the served model's top-`--candidates` lists; second stage
= the head (`--top-n`) re-scored by another model's cosine, min-max blended with the first-stage score
(`blend` = weight of the first stage, chosen on the DEV queries from 0.3/0.5/0.7, reported on held-out
queries only). Sets and dev/held-out splits as in benchmarks/hybrid_retrieval.py (XQuAD: every third
article is dev; laws: the 10 train laws are dev, the 5 test laws held out).

    .venv/bin/python benchmarks/rescore.py      # → docs/results/rescore.json (~10 min on 2 cores)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hybrid_retrieval import make_task, score  # noqa: E402

from adaptlab.eval.beir import BeirDataset  # noqa: E402
from adaptlab.eval.hybrid_eval import bm25_run  # noqa: E402
from adaptlab.eval.retrieval_eval import DocumentVectorCache, dense_run, document_text  # noqa: E402
from adaptlab.jsonio import write_json  # noqa: E402
from adaptlab.models.base import Embedder  # noqa: E402
from adaptlab.models.loading import load_embedder  # noqa: E402
from adaptlab.retrieval.fusion import fuse_runs  # noqa: E402
from adaptlab.retrieval.rerank import BiEncoderRescorer, rerank_rankings  # noqa: E402

SETS = ("xquad-en-en", "xquad-de-de", "xquad-de-en", "laws-heading")
BLENDS = (0.3, 0.5, 0.7)
PAIRS = (("minilm", "use-multilingual"), ("use-multilingual", "minilm"))
OUT = Path(__file__).resolve().parent.parent / "docs" / "results" / "rescore.json"
Run = dict[str, dict[str, float]]


def rescored(rescorer: BiEncoderRescorer, dataset: BeirDataset, run: Run, top_n: int, blend: float) -> Run:
    qids = [q for q in dataset.queries if q in run]
    rankings = [sorted(run[q].items(), key=lambda item: -item[1]) for q in qids]
    out = rerank_rankings(rescorer, [dataset.queries[q] for q in qids], rankings,
                          lambda d: document_text(dataset.corpus[d]), top_n, blend)
    return {q: dict(r) for q, r in zip(qids, out)}


def only(run: Run, qrels: dict[str, Any]) -> Run:
    return {q: hits for q, hits in run.items() if q in qrels}


def evaluate_set(name: str, served: Embedder, second: Embedder, cache: DocumentVectorCache, candidates: int,
                 top_n: int) -> dict[str, Any]:
    task = make_task(name)
    rescorer = BiEncoderRescorer(second)
    row: dict[str, Any] = {}
    for part, dataset, qrels in (("dev", task.dev, task.dev.qrels), ("held_out", task.test, task.held_out)):
        lexical = bm25_run(dataset, candidates)
        semantic = dense_run(served, dataset, candidates, 32, cache)
        hybrid = fuse_runs([lexical, semantic], "wsum", None, depth=candidates)
        runs = {"bm25": lexical, "dense": semantic, "hybrid": hybrid}
        for blend in BLENDS:
            runs[f"hybrid+rescore@{blend}"] = rescored(rescorer, dataset, only(hybrid, qrels), top_n, blend)
        row[part] = {k: score(qrels, only(r, qrels))["ndcg@10"] for k, r in runs.items()}
    dev = row["dev"]
    blend = max(BLENDS, key=lambda b: dev[f"hybrid+rescore@{b}"])
    held = row["held_out"]
    row["chosen_blend"] = blend
    row["summary"] = {
        "bm25": held["bm25"], "dense": held["dense"], "hybrid": held["hybrid"],
        "hybrid+rescore": held[f"hybrid+rescore@{blend}"],
        "hybrid_beats_both": held["hybrid"] > max(held["bm25"], held["dense"]),
        "rescore_adds": held[f"hybrid+rescore@{blend}"] > held["hybrid"],
    }
    print(name, served.name, "+", second.name, row["summary"], "blend", blend)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=30, help="Hits per retriever before fusion (served: 30).")
    parser.add_argument("--top-n", type=int, default=30, help="Head of the hybrid ranking that is re-scored.")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    cache_dir, cache = Path(".adaptlab/cache"), DocumentVectorCache()
    models = {name: load_embedder(name, cache_dir) for pair in PAIRS for name in pair}
    results: dict[str, Any] = {}
    for served, second in PAIRS:
        results[f"{served}+{second}"] = {
            name: evaluate_set(name, models[served], models[second], cache, args.candidates, args.top_n)
            for name in SETS
        }
    write_json({"date": dt.date.today().isoformat(), "candidates": args.candidates, "top_n": args.top_n,
                "fusion": "wsum 0.5/0.5", "blends": list(BLENDS), "results": results}, args.out)


if __name__ == "__main__":
    main()
