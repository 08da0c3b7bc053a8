"""Retrieval quality of BM25, dense models and their fusion (RRF, weighted sum), nDCG@10 and more.

On XQuAD en-en, de-de, de-en (question → paragraph) and laws-heading (German law section heading →
section text, test laws). Dense sides use exact search; BM25 is adaptlab's bm25s index with per-language
snowball stemming; hybrids fuse the two top-100 lists (defaults: RRF k=60, wsum 0.5/0.5 min-max).

Tuning (the standard remedies when a hybrid falls short): RRF k and the wsum BM25 weight are chosen on a
DEV part, never on the queries they are reported on. XQuAD: questions of every third article (by hash)
are dev, the others held out, same corpus. laws-heading: the train laws are dev, the test laws held out.

    .venv/bin/python benchmarks/hybrid_retrieval.py            # about 15 min on 2 cores
    .venv/bin/python benchmarks/hybrid_retrieval.py --laws-models e5-small   # + e5 on laws (slow on CPU)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from adaptlab.corpus.types import content_hash  # noqa: E402
from adaptlab.eval.beir import BeirDataset  # noqa: E402
from adaptlab.eval.hybrid_eval import bm25_run  # noqa: E402
from adaptlab.eval.metrics import ir_metrics  # noqa: E402
from adaptlab.eval.retrieval_eval import DocumentVectorCache, dense_run, resolve_datasets  # noqa: E402
from adaptlab.jsonio import write_json  # noqa: E402
from adaptlab.models.loading import load_embedder  # noqa: E402
from adaptlab.retrieval.fusion import RRF_K, fuse_runs  # noqa: E402
from adaptlab.workspace import Workspace  # noqa: E402

Run = dict[str, dict[str, float]]
Qrels = dict[str, dict[str, int]]
DEPTH = 100
RRF_KS = (1, 5, 10, 20, 40, 60, 100, 200)
BM25_WEIGHTS = tuple(round(0.1 * i, 1) for i in range(1, 10))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="+", default=["xquad-en-en", "xquad-de-de", "xquad-de-en", "laws-heading"])
    p.add_argument("--models", nargs="+", default=["minilm", "use-multilingual"])
    p.add_argument("--laws-models", nargs="*", default=[], help="extra dense models for laws-heading only")
    p.add_argument("--no-tune", action="store_true", help="skip tuning RRF k / wsum weight on the dev parts")
    p.add_argument("--workspace", default=None, help="adaptlab workspace (model cache); default ./.adaptlab")
    p.add_argument("--output", type=Path, default=Path("docs/results/hybrid_retrieval.json"))
    return p.parse_args(argv)


@dataclass
class Task:
    """A set to report on, and the dev part that tunes fusion for it (never the same queries)."""

    test: BeirDataset
    dev: BeirDataset
    held_out: Qrels  # the test queries the tuned numbers are reported on


def make_task(name: str) -> Task:
    full = resolve_datasets([name])[0]
    if name.startswith("laws-heading"):
        dev = resolve_datasets(["laws-heading-train"])[0]
        return Task(full, dev, full.qrels)
    is_dev = {qid: _dev_article(next(iter(docs))) for qid, docs in full.qrels.items()}
    dev_qrels = {q: d for q, d in full.qrels.items() if is_dev[q]}
    dev = BeirDataset(f"{full.name}-dev", full.corpus, {q: full.queries[q] for q in dev_qrels}, dev_qrels)
    return Task(full, dev, {q: d for q, d in full.qrels.items() if not is_dev[q]})


def _dev_article(doc_id: str) -> bool:
    """XQuAD doc ids are '<article>-<paragraph>'; every third article (by hash) is dev."""
    return int(content_hash("dev", doc_id.split("-")[0])[:8], 16) % 3 == 0


def score(qrels: Qrels, run: Run) -> dict[str, float]:
    return {k: round(v, 4) for k, v in ir_metrics(qrels, run).items()}


def tune(dev_qrels: Qrels, lexical: Run, semantic: Run) -> dict[str, Any]:
    """Best RRF k and wsum BM25 weight on the dev queries, by nDCG@10."""
    by_k = {k: ir_metrics(dev_qrels, fuse_runs([lexical, semantic], "rrf", k=k, depth=DEPTH))["ndcg@10"] for k in RRF_KS}
    by_w = {
        w: ir_metrics(dev_qrels, fuse_runs([lexical, semantic], "wsum", [w, 1 - w], depth=DEPTH))["ndcg@10"]
        for w in BM25_WEIGHTS
    }
    return {"rrf_k": max(by_k, key=by_k.get), "bm25_weight": max(by_w, key=by_w.get),
            "dev_ndcg@10_by_rrf_k": by_k, "dev_ndcg@10_by_bm25_weight": by_w}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cache_dir = Workspace.resolve(args.workspace).model_cache
    vector_cache = DocumentVectorCache()
    out: dict[str, Any] = {
        "date": dt.date.today().isoformat(), "machine": f"{platform.machine()} {os.cpu_count()} cpus",
        "python": sys.version.split()[0], "depth": DEPTH, "defaults": {"rrf_k": RRF_K, "wsum_weights": [0.5, 0.5]},
        "datasets": {},
    }
    for name in args.datasets:
        task = make_task(name)
        print(f"{name}: {task.test.stats()}", flush=True)
        lexical = bm25_run(task.test, DEPTH)
        lexical_dev = lexical if task.dev.corpus is task.test.corpus else bm25_run(task.dev, DEPTH)
        entry: dict[str, Any] = {"stats": task.test.stats(), "bm25": score(task.test.qrels, lexical), "models": {}}
        models = args.models + (args.laws_models if name.startswith("laws-heading") else [])
        for model in models:
            embedder = load_embedder(model, cache_dir)
            semantic = dense_run(embedder, task.test, DEPTH, cache=vector_cache)
            result = {
                "dense": score(task.test.qrels, semantic),
                "rrf": score(task.test.qrels, fuse_runs([lexical, semantic], "rrf", depth=DEPTH)),
                "wsum": score(task.test.qrels, fuse_runs([lexical, semantic], "wsum", [0.5, 0.5], depth=DEPTH)),
            }
            if not args.no_tune and model not in args.laws_models:
                semantic_dev = semantic if task.dev.corpus is task.test.corpus else dense_run(
                    embedder, task.dev, DEPTH, cache=vector_cache)
                best = tune(task.dev.qrels, lexical_dev, semantic_dev)
                w = best["bm25_weight"]
                result["tuned"] = {
                    **best,
                    "held_out_queries": len(task.held_out),
                    "held_out": {
                        "bm25": score(task.held_out, lexical),
                        "dense": score(task.held_out, semantic),
                        "rrf_default": score(task.held_out, fuse_runs([lexical, semantic], "rrf", depth=DEPTH)),
                        "wsum_default": score(task.held_out, fuse_runs([lexical, semantic], "wsum", [0.5, 0.5], depth=DEPTH)),
                        "rrf_tuned": score(task.held_out, fuse_runs([lexical, semantic], "rrf", k=best["rrf_k"], depth=DEPTH)),
                        "wsum_tuned": score(task.held_out, fuse_runs([lexical, semantic], "wsum", [w, 1 - w], depth=DEPTH)),
                    },
                }
            entry["models"][embedder.name] = result
            print(f"  {embedder.name}: bm25 {entry['bm25']['ndcg@10']:.3f} dense {result['dense']['ndcg@10']:.3f} "
                  f"rrf {result['rrf']['ndcg@10']:.3f} wsum {result['wsum']['ndcg@10']:.3f}", flush=True)
        out["datasets"][task.test.name] = entry
        write_json(out, args.output)  # after each set, so an interrupted run keeps what it measured
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
