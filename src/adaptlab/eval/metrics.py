"""IR metrics computed by ranx, one dict shape for every evaluator, with nDCG@10 as the headline number."""

from __future__ import annotations

import warnings

from adaptlab.errors import AdaptlabError

METRICS = ("ndcg@10", "mrr@10", "recall@1", "recall@10", "recall@100", "map@100")
PRIMARY_METRIC = "ndcg@10"


def ir_metrics(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, float]:
    """Mean metrics over every judged query: a query missing from `run` or with no results scores 0.

    Runs for queries without judgments are ignored. ranx is imported here because its import takes seconds
    and its numba kernels compile (once per environment, then cached) on the first call.
    """
    if not qrels:
        raise AdaptlabError("no judged queries to evaluate (qrels are empty)")
    if not any(run.get(qid) for qid in qrels):
        return dict.fromkeys(METRICS, 0.0)  # ranx fails on a run without a single result
    from numba.core.errors import NumbaTypeSafetyWarning
    from ranx import Qrels, Run, evaluate

    with warnings.catch_warnings():
        # ranx's compiled ndcg casts uint64 → int64 for ranks; harmless and not ours to fix
        warnings.simplefilter("ignore", NumbaTypeSafetyWarning)
        scores = evaluate(Qrels(qrels), Run(run), list(METRICS), make_comparable=True)
    return {name: float(scores[name]) for name in METRICS}
