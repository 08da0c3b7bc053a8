"""The BM25/dense weight of hybrid search, chosen for each fine-tuned model on its own held-out pairs.

Hybrid search fuses min-max normalised BM25 and dense scores, 0.5/0.5 by default. A model fine-tuned on
a corpus is better than before, so on that corpus it deserves more than half the say; how much more
depends on the corpus and the model. `finetune` measures it without touching any evaluation set: the
held-out pairs (whole documents the model never trained on) become a small retrieval set over those
documents' chunks, and the BM25 weight with the best nDCG@10 on it is saved next to the model
(`hybrid.json`). `search --mode hybrid` and `eval --retriever hybrid` then fuse with it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from adaptlab.eval.beir import BeirDataset
from adaptlab.eval.hybrid_eval import bm25_run, hybrid_run
from adaptlab.eval.metrics import PRIMARY_METRIC, ir_metrics
from adaptlab.eval.retrieval_eval import dense_run
from adaptlab.models.base import Embedder
from adaptlab.train.pairs import Pair

CALIBRATION_FILE = "hybrid.json"
GRID = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
"""BM25 weights tried; the dense side gets 1 − w."""
MIN_QUERIES = 10
"""Fewer held-out pairs than this choose a weight by chance: the default 0.5/0.5 stays."""


@dataclass(frozen=True)
class HybridCalibration:
    bm25_weight: float
    scores: dict[str, float]
    """nDCG@10 on the held-out pairs per BM25 weight (keys are the weights as text, for JSON)."""
    queries: int
    documents: int

    @property
    def weights(self) -> tuple[float, float]:
        """(BM25, dense), the order `fuse` takes."""
        return self.bm25_weight, round(1.0 - self.bm25_weight, 6)

    def save(self, folder: Path) -> Path:
        path = Path(folder) / CALIBRATION_FILE
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        return path


def heldout_set(heldout: Sequence[Pair], chunks: Sequence[tuple[str, str]]) -> BeirDataset:
    """The held-out pairs as queries over their documents' chunks, each pair's positive the relevant one.

    `chunks` are (doc_id, text) of the corpus; a positive that is not a whole chunk (the rest of an
    inverse-cloze passage) joins the corpus as its own document.
    """
    docs = {p.doc_id for p in heldout}
    corpus: dict[str, dict[str, str]] = {}
    ids: dict[str, str] = {}
    for text in [t.strip() for d, t in chunks if d in docs] + [p.positive.strip() for p in heldout]:
        if text and text not in ids:
            ids[text] = f"d{len(ids)}"
            corpus[ids[text]] = {"title": "", "text": text}
    queries = {f"q{i}": p.query for i, p in enumerate(heldout)}
    qrels = {f"q{i}": {ids[p.positive.strip()]: 1} for i, p in enumerate(heldout)}
    return BeirDataset("held-out pairs", corpus, queries, qrels)


def calibrate_hybrid(embedder: Embedder, dataset: BeirDataset, batch_size: int = 32,
                     grid: Sequence[float] = GRID, k: int = 100) -> HybridCalibration:
    """The BM25 weight with the best nDCG@10 on `dataset` (ties go to the one nearest 0.5). The dense side reads
    each passage as search does, one vector per chunk (no window scoring: the weight is for search)."""
    dense = dense_run(embedder, dataset, k, batch_size)
    lexical = bm25_run(dataset, k)
    scores = {w: ir_metrics(dataset.qrels, hybrid_run(lexical, dense, k, weights=[w, 1.0 - w]))[PRIMARY_METRIC]
              for w in grid}
    best = max(grid, key=lambda w: (round(scores[w], 6), -abs(w - 0.5)))
    return HybridCalibration(float(best), {f"{w:g}": round(float(s), 4) for w, s in scores.items()},
                             len(dataset.queries), len(dataset.corpus))


def calibrated_weights(folder: str | Path) -> tuple[float, float] | None:
    """(BM25, dense) weights saved with a model folder, or None (zoo models, or nothing calibrated)."""
    path = Path(folder) / CALIBRATION_FILE
    try:
        weight = float(json.loads(path.read_text(encoding="utf-8"))["bm25_weight"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (weight, round(1.0 - weight, 6)) if 0.0 <= weight <= 1.0 else None


__all__ = ["CALIBRATION_FILE", "HybridCalibration", "calibrate_hybrid", "calibrated_weights", "heldout_set"]
