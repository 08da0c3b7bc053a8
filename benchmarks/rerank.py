"""Does reranking add on top of hybrid retrieval? BM25 / dense / hybrid vs dense+rerank / hybrid+rerank, nDCG@10.

1. Train a cross-encoder from the MiniLM weights with adaptlab's stage (`train_reranker`): pairs mined
   by the corpus miners from the 10 TRAIN laws (ingested into a scratch workspace) plus the XQuAD
   questions of the DEV articles (every third article by hash, as in benchmarks/hybrid_retrieval.py);
   hard negatives mined by MiniLM. Nothing from the test laws or the held-out XQuAD articles is trained on.
2. On XQuAD en-en, de-de, de-en and laws-heading (test laws), for a seeded sample of held-out queries:
   first stages BM25, dense (exact search) and hybrid (wsum 0.5/0.5 over the two top-100 lists, the
   search default); their top-N re-sorted by the cross-encoder, by the cross-encoder blended 50/50 with
   the first-stage score (min-max over the head), and by bi-encoder rescoring with the multilingual model.

    OMP_NUM_THREADS=2 nice -n 5 .venv/bin/python benchmarks/rerank.py     # ~30 min on 2 loaded cores
    .venv/bin/python benchmarks/rerank.py --reranker .adaptlab-rerank-bench/finetuned/minilm-reranker  # eval only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from hybrid_retrieval import DEPTH, make_task, score  # noqa: E402

from adaptlab.datasets import dataset_dir  # noqa: E402
from adaptlab.eval.beir import BeirDataset  # noqa: E402
from adaptlab.eval.hybrid_eval import bm25_run  # noqa: E402
from adaptlab.eval.laws import laws_heading_to_beir  # noqa: E402
from adaptlab.eval.retrieval_eval import DocumentVectorCache, dense_run, document_text  # noqa: E402
from adaptlab.jsonio import write_json  # noqa: E402
from adaptlab.models.loading import load_embedder  # noqa: E402
from adaptlab.retrieval.fusion import fuse_runs  # noqa: E402
from adaptlab.retrieval.rerank import BiEncoderRescorer, CrossEncoderReranker, Reranker, rerank_rankings  # noqa: E402
from adaptlab.workspace import Workspace  # noqa: E402

Run = dict[str, dict[str, float]]
XQUAD_TRAIN = ("en-en", "de-de", "de-en")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--datasets", nargs="+", default=["xquad-en-en", "xquad-de-de", "xquad-de-en", "laws-heading"]
    )
    p.add_argument(
        "--dense", default="use-multilingual", help="dense model of the first stage (and bi-encoder rescorer)"
    )
    p.add_argument("--top-n", type=int, default=20, help="first-stage hits re-scored")
    p.add_argument("--queries", type=int, default=100, help="held-out queries sampled per set (0: all)")
    p.add_argument("--train-queries", type=int, default=300)
    p.add_argument("--negatives", type=int, default=3)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument(
        "--reranker", type=Path, default=None, help="a trained cross-encoder folder: skip training"
    )
    p.add_argument(
        "--workspace", type=Path, default=None, help="scratch workspace for training (default: a temp dir)"
    )
    p.add_argument("--output", type=Path, default=Path("docs/results/rerank.json"))
    return p.parse_args(argv)


def xquad_dev_pairs(path: Path) -> int:
    """Questions of the dev articles → their paragraph, for every XQuAD pair; JSONL for the stage."""
    rows = 0
    with open(path, "w", encoding="utf-8") as f:
        for pair in XQUAD_TRAIN:
            task = make_task(f"xquad-{pair}")
            for qid, docs in task.dev.qrels.items():
                doc = next(iter(docs))
                row = {
                    "query": task.dev.queries[qid],
                    "positive": document_text(task.dev.corpus[doc]),
                    "doc_id": f"xquad-{doc.split('-')[0]}",
                    "rule": f"xquad-dev-{pair}",
                }
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                rows += 1
    return rows


def train(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    from adaptlab.pipeline import Session
    from adaptlab.train.reranker_config import RerankerConfig
    from adaptlab.train.reranker_trainer import train_reranker

    root = args.workspace or Path(tempfile.mkdtemp(prefix="adaptlab-rerank-"))
    gesetze = dataset_dir("gesetze")
    train_laws = laws_heading_to_beir(gesetze, "train")
    stems = sorted({doc_id.rsplit("-", 1)[0] for doc_id in train_laws.corpus})
    files = [gesetze / f"{stem}.md" for stem in stems]
    pairs_file = root / "xquad-dev-pairs.jsonl"
    root.mkdir(parents=True, exist_ok=True)
    n_xquad = xquad_dev_pairs(pairs_file)
    with Session.open(root / "ws", tracking_uri="none") as session:
        start = time.perf_counter()
        session.ingest(files)
        ingest_s = time.perf_counter() - start
        config = RerankerConfig(
            pairs=["corpus", str(pairs_file)],
            rules=["heading", "inverse-cloze"],
            max_pairs=args.train_queries,
            negatives=args.negatives,
            heldout_fraction=0.0,
            max_length=args.max_length,
            batch_size=args.batch_size,
            save_steps=1000,
        )
        report = train_reranker(session, config)
    info = {
        "train_laws": stems,
        "xquad_dev_pairs_available": n_xquad,
        "ingest_seconds": round(ingest_s, 1),
        "config": config.model_dump(),
        **{k: v for k, v in report.as_dict().items() if k != "path"},
    }
    return report.path, info


class CachedReranker:
    """Scores each (query, text) pair once, so dense and hybrid heads share the model's work."""

    def __init__(self, inner: Reranker) -> None:
        self.inner = inner
        self.name = inner.name
        self.blend = inner.blend
        self.cache: dict[tuple[str, str], float] = {}
        self.seconds = 0.0

    def score_pairs(self, queries: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(p for p in zip(queries, texts) if p not in self.cache))
        if missing:
            start = time.perf_counter()
            scores = self.inner.score_pairs([q for q, _ in missing], [t for _, t in missing])
            self.seconds += time.perf_counter() - start
            self.cache.update(zip(missing, map(float, scores)))
        return np.array([self.cache[p] for p in zip(queries, texts)], dtype=np.float32)


def reranked(
    reranker: Reranker, dataset: BeirDataset, run: Run, qids: list[str], top_n: int, blend: float = 0.0
) -> Run:
    rankings = [sorted(run.get(q, {}).items(), key=lambda item: -item[1]) for q in qids]
    out = rerank_rankings(
        reranker,
        [dataset.queries[q] for q in qids],
        rankings,
        lambda d: document_text(dataset.corpus[d]),
        top_n,
        blend,
    )
    return {q: dict(r) for q, r in zip(qids, out)}


def per_query_ndcg(qrels: dict[str, dict[str, int]], run: Run) -> dict[str, float]:
    """nDCG@10 per query for single-relevant-document qrels (both sets here): 1/log2(rank + 1) in the top 10."""
    out = {}
    for qid, docs in qrels.items():
        ranking = sorted(run.get(qid, {}).items(), key=lambda item: -item[1])[:10]
        ranks = [i for i, (d, _) in enumerate(ranking, 1) if docs.get(d, 0) > 0]
        out[qid] = 1 / math.log2(ranks[0] + 1) if ranks else 0.0
    return out


def wins(qrels: dict[str, dict[str, int]], base: Run, new: Run) -> dict[str, int]:
    a, b = per_query_ndcg(qrels, base), per_query_ndcg(qrels, new)
    return {"better": sum(b[q] > a[q] + 1e-9 for q in qrels), "worse": sum(b[q] < a[q] - 1e-9 for q in qrels)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
        "note": "timings on a 2-core machine shared with other jobs (loaded); quality numbers do not depend on load",
        "python": sys.version.split()[0],
        "depth": DEPTH,
        "top_n": args.top_n,
        "dense_model": args.dense,
        "hybrid": "wsum 0.5/0.5 (min-max) over the BM25 and dense top-100",
        "datasets": {},
    }
    if args.reranker:
        folder, out["training"] = args.reranker, {"reused": str(args.reranker)}
    else:
        folder, out["training"] = train(args)
        print(
            f"trained {folder}: {out['training']['train_seconds']:.0f} s training, "
            f"{out['training']['mining_seconds']:.0f} s mining",
            flush=True,
        )
    write_json(out, args.output)
    cross = CachedReranker(CrossEncoderReranker(folder, max_length=args.max_length))
    cache_dir = Workspace.resolve(None).model_cache
    embedder = load_embedder(args.dense, cache_dir)
    bi = BiEncoderRescorer(embedder)
    vectors = DocumentVectorCache()
    for name in args.datasets:
        task = make_task(name)
        test = task.test
        held = sorted(task.held_out)
        sample = (
            held
            if not args.queries or args.queries >= len(held)
            else sorted(random.Random(13).sample(held, args.queries))
        )
        qrels = {q: task.held_out[q] for q in sample}
        lexical = bm25_run(test, DEPTH)
        semantic = dense_run(embedder, test, DEPTH, cache=vectors)
        hybrid = fuse_runs([lexical, semantic], "wsum", [0.5, 0.5], depth=DEPTH)
        runs: dict[str, Run] = {"bm25": lexical, "dense": semantic, "hybrid": hybrid}
        start_s = cross.seconds
        runs["dense+rerank"] = reranked(cross, test, semantic, sample, args.top_n)
        runs["hybrid+rerank"] = reranked(cross, test, hybrid, sample, args.top_n)
        runs["hybrid+rerank-blend0.5"] = reranked(cross, test, hybrid, sample, args.top_n, blend=0.5)
        runs["hybrid+bi-rescore"] = reranked(bi, test, hybrid, sample, args.top_n, blend=0.0)
        pairs_scored = len(cross.cache)
        entry: dict[str, Any] = {
            "stats": test.stats(),
            "held_out_queries": len(held),
            "sampled_queries": len(sample),
            "held_out_all": {k: score(task.held_out, runs[k]) for k in ("bm25", "dense", "hybrid")},
            "sample": {k: score(qrels, run) for k, run in runs.items()},
            "vs_hybrid": {k: wins(qrels, hybrid, runs[k]) for k in runs if k.startswith("hybrid+")},
            "vs_dense": {"dense+rerank": wins(qrels, semantic, runs["dense+rerank"])},
            "cross_encoder_seconds": round(cross.seconds - start_s, 1),
            "cross_encoder_pairs_total": pairs_scored,
        }
        ndcg = {k: v["ndcg@10"] for k, v in entry["sample"].items()}
        entry["rerank_adds_on_top"] = ndcg["hybrid+rerank"] > ndcg["hybrid"]
        out["datasets"][test.name] = entry
        print(
            f"{test.name} ({len(sample)} queries): " + " ".join(f"{k} {v:.3f}" for k, v in ndcg.items()),
            flush=True,
        )
        write_json(out, args.output)  # after each set, so an interrupted run keeps what it measured
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
