"""The helper's weight in a trained-base ensemble: held-out pairs against the test sets, dense and with BM25.

`finetune` with `method: full`, `ensemble: [MODEL]` and `ensemble_weights: auto` keeps the trained base at weight
1 and gives each adapted helper the weight (0, ¼ … 1) with the best nDCG@10 on the held-out pairs. This sweeps
every such weight for a saved two-member ensemble on the same vectors and reports, per weight: the held-out
pairs (dense, and fused with BM25 at each weight the hybrid calibration tries) and each evaluation set of the
config (dense truncated and from windows, fused with BM25 at 0.1–0.5), so the choice can be checked against
what the test queries wanted. Run after `adaptlab run CONFIG -w WS` in the same workspace:

    ADAPTLAB_DATA=../shared/data .venv/bin/python benchmarks/helper_weights.py \\
        --config configs/finetune-laws.yaml -w /tmp/ws-laws --model laws-e5-use --out docs/results/helper_weights_laws.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from adaptlab.config import load_config
from adaptlab.eval.beir import BeirDataset
from adaptlab.eval.document_windows import document_windows, search_documents
from adaptlab.eval.hybrid_eval import bm25_run, hybrid_run
from adaptlab.eval.metrics import PRIMARY_METRIC, ir_metrics
from adaptlab.eval.retrieval_eval import document_text, resolve_datasets
from adaptlab.pipeline import Session
from adaptlab.train.ensemble import EnsembleEmbedder
from adaptlab.train.ensemble_weights import helper_grid
from adaptlab.train.finetune_stage import heldout_dataset
from adaptlab.train.hybrid_calibration import GRID

TEST_BM25 = (0.1, 0.2, 0.3, 0.4, 0.5)


def sweep(ensemble: EnsembleEmbedder, dataset: BeirDataset, bm25_weights: tuple[float, ...],
          window_weight: float | None) -> dict[str, dict[str, float]]:
    """nDCG@10 per helper weight: dense, and fused with BM25 at each of `bm25_weights`."""
    doc_ids, query_ids = list(dataset.corpus), list(dataset.queries)
    texts = [document_text(dataset.corpus[d]) for d in doc_ids]
    windows = document_windows(ensemble, texts, window_weight) if window_weight is not None else None
    passages = windows.texts if windows else texts
    docs = [m.encode_documents(passages) for m in ensemble.members]
    queries = [m.encode_queries([dataset.queries[q] for q in query_ids]) for m in ensemble.members]
    lexical = bm25_run(dataset, 100)
    rows: dict[str, dict[str, float]] = {}
    for weights in helper_grid(len(ensemble.members)):
        combine = EnsembleEmbedder(ensemble.members, weights, "sweep").combine
        dense = search_documents(combine(queries), combine(docs), doc_ids, query_ids, 100, windows)
        row = {"dense": ir_metrics(dataset.qrels, dense)[PRIMARY_METRIC]}
        row.update({f"bm25_{b:g}": ir_metrics(dataset.qrels, hybrid_run(lexical, dense, 100, weights=[b, 1 - b]))[
            PRIMARY_METRIC] for b in bm25_weights})
        label = "/".join(f"{w:g}" for w in weights)
        rows[label] = {k: round(float(v), 4) for k, v in row.items()}
        print(dataset.name, f"windows {window_weight}" if window_weight is not None else "truncated", label,
              rows[label], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, required=True, help="the config the ensemble was trained with")
    parser.add_argument("-w", "--workspace", type=Path, required=True, help="the workspace it was trained in")
    parser.add_argument("--model", required=True, help="the registered ensemble (trained base + helpers)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    config = load_config(args.config)
    if config.finetune is None:
        raise SystemExit(f"{args.config}: no finetune section")
    with Session.open(args.workspace, config, tracking_uri=None) as session:
        ensemble = session.embedder(args.model)
        if not isinstance(ensemble, EnsembleEmbedder):
            raise SystemExit(f"{args.model}: not an ensemble")
        result: dict[str, Any] = {"model": args.model, "config": str(args.config), "saved_weights": ensemble.weights,
                                  "heldout": sweep(ensemble, heldout_dataset(session, config.finetune), GRID, None)}
        for dataset in resolve_datasets(config.finetune.eval):
            result[dataset.name] = {"truncated": sweep(ensemble, dataset, TEST_BM25, None),
                                    "windows_0.5": sweep(ensemble, dataset, TEST_BM25, 0.5)}
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}; weights kept {result['saved_weights']}")


if __name__ == "__main__":
    main()
