"""Window scoring against truncation: nDCG@10 of each model on each set, dense and fused with BM25.

A model truncates a document past its token limit; window scoring (adaptlab.eval.document_windows) reads it
as windows of that limit and scores (1 − w) · lead + w · best window. This runs both on the same vectors
(per model, each window text is encoded once) and writes one JSON row per model, set and weight:

    ADAPTLAB_DATA=../shared/data .venv/bin/python benchmarks/window_scoring.py \
        --model e5-small-trainable --model minilm --model /path/to/finetuned/laws-e5-hn3 \
        --set laws-heading --set xquad-de-de --set xquad-en-en

The BM25 side is fused 0.5/0.5 and, for a fine-tuned folder with a calibrated weight (`hybrid.json`), at that
weight too, as `search --mode hybrid` fuses.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.eval.document_windows import document_windows
from adaptlab.eval.hybrid_eval import bm25_run, hybrid_run
from adaptlab.eval.metrics import PRIMARY_METRIC, ir_metrics
from adaptlab.eval.retrieval_eval import DocumentVectorCache, dense_run, document_text, resolve_datasets
from adaptlab.models.loading import load_embedder
from adaptlab.train.hybrid_calibration import calibrated_weights

WEIGHTS = (None, 0.25, 0.5, 0.75, 1.0)
"""None truncates (plain encoding); 0 would be the lead window alone, 1 the best window alone."""


def score_model(model: str, sets: list[Any], cache_dir: Path, lexical: dict[str, Any]) -> list[dict[str, Any]]:
    embedder = load_embedder(model, cache_dir)
    calibrated = calibrated_weights(model) if Path(model).is_dir() else None
    cache = DocumentVectorCache()
    rows = []
    for dataset in sets:
        texts = [document_text(d) for d in dataset.corpus.values()]
        windows = document_windows(embedder, texts)
        per_doc = np.bincount(windows.owners, minlength=len(texts))
        for weight in WEIGHTS:
            start = time.perf_counter()
            run = dense_run(embedder, dataset, window_weight=weight, cache=cache)
            row = {"model": Path(model).name if Path(model).is_dir() else embedder.name, "set": dataset.name, "limit": embedder.max_seq_length,
                   "documents": len(texts), "windows": len(windows.texts), "long_documents": int((per_doc > 1).sum()),
                   "window_weight": weight, "dense": ir_metrics(dataset.qrels, run)[PRIMARY_METRIC],
                   "bm25_0.5": ir_metrics(dataset.qrels, hybrid_run(lexical[dataset.name], run))[PRIMARY_METRIC]}
            if calibrated:
                fused = hybrid_run(lexical[dataset.name], run, weights=calibrated)
                row[f"bm25_{calibrated[0]:g}_calibrated"] = ir_metrics(dataset.qrels, fused)[PRIMARY_METRIC]
            row["seconds"] = round(time.perf_counter() - start, 1)
            rows.append({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", required=True, help="Zoo name or model folder (repeatable).")
    parser.add_argument("--set", action="append", required=True, help="Evaluation set (repeatable).")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/adaptlab-window-scoring"),
                        help="Model cache (e5-small-trainable is unpacked here once).")
    parser.add_argument("--output", type=Path, default=Path("docs/results/window_scoring.json"))
    args = parser.parse_args()
    sets = resolve_datasets(args.set)
    lexical = {dataset.name: bm25_run(dataset) for dataset in sets}
    rows = [row for model in args.model for row in score_model(model, sets, args.cache, lexical)]
    bm25 = {dataset.name: round(ir_metrics(dataset.qrels, lexical[dataset.name])[PRIMARY_METRIC], 4) for dataset in sets}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"metric": PRIMARY_METRIC, "bm25": bm25, "rows": rows}, indent=1) + "\n",
                           encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
