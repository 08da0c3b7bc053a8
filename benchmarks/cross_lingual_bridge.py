"""Cross-lingual bridge into MiniLM's space (issue 3, set 3): German queries against English MiniLM vectors.

MiniLM's English WordPiece vocabulary is what keeps sentence-level distillation from teaching it German
(docs/benchmarks.md, "Cross-lingual alignment of MiniLM"). This measures the other route: keep MiniLM and
its stored document vectors as they are, and answer a German query with multilingual e5-small's query
vector mapped linearly into MiniLM's space. The map is a ridge least-squares fit of MiniLM's embedding of
each English sentence from e5's embeddings of the English and the German side (Tatoeba, STSb train/dev/test
de–en and OEO term pairs; no XQuAD text). Documents stay MiniLM's; English queries could stay MiniLM's too
(routed by language), so en→en would not move at all; the table also shows English queries through the map.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/cross_lingual_bridge.py   # ~6 min on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from adaptlab.eval.beir import BeirDataset  # noqa: E402
from adaptlab.eval.exact_search import exact_search  # noqa: E402
from adaptlab.eval.metrics import ir_metrics  # noqa: E402
from adaptlab.eval.retrieval_eval import document_text, resolve_datasets  # noqa: E402
from adaptlab.models.loading import load_embedder  # noqa: E402
from adaptlab.train.parallel import parallel_pairs  # noqa: E402

SOURCES = ("tatoeba", "stsb", "oeo")
RIDGE = (0.01, 0.1, 1.0)


def ridge_map(inputs: np.ndarray, targets: np.ndarray, ridge: float) -> np.ndarray:
    """W minimising ‖inputs·W − targets‖² + ridge·‖W‖² (closed form)."""
    gram = inputs.T @ inputs + ridge * np.eye(inputs.shape[1], dtype=inputs.dtype)
    return np.linalg.solve(gram, inputs.T @ targets)


def ndcg(dataset: BeirDataset, queries: np.ndarray, documents: np.ndarray) -> float:
    queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    run = exact_search(queries.astype(np.float32), documents, list(dataset.corpus), list(dataset.queries), k=100)
    return float(ir_metrics(dataset.qrels, run)["ndcg@10"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path(".adaptlab/models"), help="Model cache folder.")
    parser.add_argument("--out", type=Path, default=Path("docs/results/cross_lingual_bridge.json"))
    args = parser.parse_args()
    e5, minilm = load_embedder("e5-small-trainable", args.cache), load_embedder("minilm", args.cache)
    pairs = parallel_pairs(SOURCES)
    start = time.perf_counter()
    e5_en = e5.encode_queries([en for en, _ in pairs], batch_size=64)
    e5_de = e5.encode_queries([de for _, de in pairs], batch_size=64)
    target = minilm.encode_queries([en for en, _ in pairs], batch_size=64)
    encode_seconds = time.perf_counter() - start
    fits = {
        "en": (e5_en, target), "de": (e5_de, target),
        "en+de": (np.vstack([e5_en, e5_de]), np.vstack([target, target])),
    }
    results: dict[str, Any] = {"pairs": len(pairs), "sources": list(SOURCES), "encode_seconds": encode_seconds,
                                  "baselines": {}, "bridge": []}
    datasets = resolve_datasets(["xquad-de-en", "xquad-en-en"])
    vectors = {}
    for ds in datasets:
        docs = minilm.encode_documents([document_text(ds.corpus[d]) for d in ds.corpus])
        texts = [ds.queries[q] for q in ds.queries]
        vectors[ds.name] = (docs, e5.encode_queries(texts))
        results["baselines"][ds.name] = {
            "minilm": ndcg(ds, minilm.encode_queries(texts), docs),
            "e5-small-trainable (own documents)": ndcg(ds, vectors[ds.name][1], e5.encode_documents(
                [document_text(ds.corpus[d]) for d in ds.corpus])),
        }
    for fit, (inputs, targets) in fits.items():
        for ridge in RIDGE:
            start = time.perf_counter()
            w = ridge_map(inputs, targets, ridge)
            row = {"fit": fit, "ridge": ridge, "fit_seconds": time.perf_counter() - start}
            row.update({ds.name: ndcg(ds, vectors[ds.name][1] @ w, vectors[ds.name][0]) for ds in datasets})
            print(row)
            results["bridge"].append(row)
    results["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform()}
    results["date"] = time.strftime("%Y-%m-%d")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results["baselines"], indent=2))


if __name__ == "__main__":
    main()
