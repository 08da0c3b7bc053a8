"""The weight of each member of an adapter ensemble, chosen on the held-out pairs (`ensemble_weights: auto`).

Equal weights assume every member knows the corpus equally well. They do not: on German law headings the
multilingual USE (0.43 nDCG@10) drags an equal-weight ensemble with e5-small (0.62) below e5 alone, while on
German terms → English definitions the two together beat either. Which case a user's corpus is, only its own
data can say. The held-out pairs (whole documents no adapter trained on) become a small retrieval set over
those documents' chunks (`hybrid_calibration.heldout_set`); every weighting on a coarse simplex grid is scored
on it from one encoding per member, and the best is saved. A member whose best weight is 0 is left out of the
saved ensemble, so serving does not encode with it.

Measured (docs/benchmarks.md, "Seventh round"): for adapter ensembles on *mined* held-out pairs the choice was
wrong on both tasks — e5 alone on OEO where the test queries want both, both on the laws where they want e5
alone — so there it is opt-in, for held-out pairs that are real labelled queries.

A fully trained base is different (`anchored`): it has learnt the corpus, the other members are frozen helpers
with an adapter. The base keeps weight 1 and each helper takes 0, ¼, … 1 of it — never more — and the best
weighting wins outright (ties: the lighter helpers, cheaper to serve). On the tenth round's two tasks the
held-out pairs chose a helper weight of ½ on both, and ½ met both tasks' bars where equal weights did not
(docs/benchmarks.md, "Tenth round").
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from adaptlab.eval.beir import BeirDataset
from adaptlab.eval.exact_search import exact_search
from adaptlab.eval.metrics import PRIMARY_METRIC, ir_metrics
from adaptlab.eval.retrieval_eval import document_text
from adaptlab.models.base import Embedder
from adaptlab.train.ensemble import EnsembleEmbedder

STEPS = 4
"""Grid resolution: weights are multiples of 1/STEPS summing to 1 (two members: 0, ¼, ½, ¾, 1)."""
MIN_GAIN = 0.02
"""nDCG@10 a weighting must gain over equal weights on the held-out pairs to replace them: held-out sets are
small, so only a clear gain — a member that plainly hurts — moves the weights."""


@dataclass(frozen=True)
class EnsembleWeights:
    weights: tuple[float, ...]
    scores: dict[str, float]
    """nDCG@10 on the held-out pairs per weighting (keys: the weights joined by '/', for JSON)."""
    queries: int
    documents: int
    equal_score: float
    """nDCG@10 of equal weights (the default; unanchored choices must beat it by MIN_GAIN)."""


def weight_grid(members: int, steps: int = STEPS) -> list[tuple[float, ...]]:
    """Every weighting of `members` whose weights are multiples of 1/steps and sum to 1."""
    if members < 1:
        raise ValueError("an ensemble has at least one member")
    return [tuple(c / steps for c in combo)
            for combo in itertools.product(range(steps + 1), repeat=members) if sum(combo) == steps]


def helper_grid(members: int, steps: int = STEPS) -> list[tuple[float, ...]]:
    """The first member at weight 1, every other at a multiple of 1/steps from 0 to 1."""
    if members < 1:
        raise ValueError("an ensemble has at least one member")
    return [(1.0, *(c / steps for c in combo)) for combo in itertools.product(range(steps + 1), repeat=members - 1)]


def _label(weights: tuple[float, ...]) -> str:
    return "/".join(f"{w:g}" for w in weights)


def choose_ensemble_weights(members: Sequence[Embedder], dataset: BeirDataset, batch_size: int = 32,
                            steps: int = STEPS, k: int = 100, min_gain: float = MIN_GAIN,
                            anchored: bool = False) -> EnsembleWeights:
    """The weighting with the best nDCG@10 on `dataset` if it beats equal weights by `min_gain`, else equal
    weights; ties go to the one nearest equal weights. `anchored` (a trained base first): the best of
    `helper_grid` outright, ties to the lightest helpers."""
    doc_ids, query_ids = list(dataset.corpus), list(dataset.queries)
    texts = [document_text(dataset.corpus[d]) for d in doc_ids]
    questions = [dataset.queries[q] for q in query_ids]
    docs = [m.encode_documents(texts, batch_size=batch_size) for m in members]
    queries = [m.encode_queries(questions, batch_size=batch_size) for m in members]

    def score(weights: tuple[float, ...]) -> float:
        combine = EnsembleEmbedder(members, weights, "weighing").combine  # what serving will compute
        run = exact_search(combine(queries), combine(docs), doc_ids, query_ids, k=k)
        return float(ir_metrics(dataset.qrels, run)[PRIMARY_METRIC])

    if anchored:  # the trained base at 1; the best helper weighting wins outright, ties to the lightest helpers
        equal = tuple([1.0] * len(members))
        scores = {w: score(w) for w in helper_grid(len(members), steps)}
        best = max(scores, key=lambda w: (round(scores[w], 6), -sum(w)))
    else:
        equal = tuple([1.0 / len(members)] * len(members))
        # three members in quarters have no equal point: it is scored as well
        scores = {w: score(w) for w in dict.fromkeys([*weight_grid(len(members), steps), equal])}
        best = max(scores, key=lambda w: (round(scores[w], 6), -float(np.abs(np.subtract(w, equal)).sum())))
        if scores[best] < scores[equal] + min_gain:
            best = equal
    return EnsembleWeights(best, {_label(w): round(float(s), 4) for w, s in scores.items()}, len(query_ids),
                           len(doc_ids), round(float(scores[equal]), 4))

__all__ = ["STEPS", "EnsembleWeights", "choose_ensemble_weights", "helper_grid", "weight_grid"]
