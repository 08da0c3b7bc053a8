import numpy as np
import pytest

from adaptlab.eval.exact_search import exact_search
from adaptlab.eval.metrics import METRICS, PRIMARY_METRIC, ir_metrics


def test_perfect_run_scores_one() -> None:
    scores = ir_metrics({"q1": {"d1": 1}, "q2": {"d2": 1}}, {"q1": {"d1": 0.9}, "q2": {"d2": 0.8, "d1": 0.1}})
    assert tuple(scores) == METRICS
    assert PRIMARY_METRIC in scores
    assert scores == {name: pytest.approx(1.0) for name in METRICS}


def test_relevant_at_rank_two() -> None:
    scores = ir_metrics({"q1": {"d1": 1}}, {"q1": {"d0": 0.9, "d1": 0.5}})
    assert scores["mrr@10"] == pytest.approx(0.5)
    assert scores["recall@1"] == 0.0
    assert scores["recall@10"] == 1.0
    assert scores["ndcg@10"] == pytest.approx(1 / np.log2(3))


def test_missing_or_empty_query_counts_as_zero() -> None:
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}, "q3": {"d3": 1}}
    scores = ir_metrics(qrels, {"q1": {"d1": 1.0}, "q2": {}, "unjudged": {"d9": 1.0}})
    assert scores["mrr@10"] == pytest.approx(1 / 3)


def test_run_without_any_result_scores_zero() -> None:
    assert ir_metrics({"q1": {"d1": 1}}, {"q1": {}}) == dict.fromkeys(METRICS, 0.0)


def test_exact_search_finds_identical_vector_first() -> None:
    rng = np.random.default_rng(0)
    docs = rng.normal(size=(50, 8)).astype(np.float32)
    doc_ids = [f"d{i}" for i in range(50)]
    run = exact_search(docs[[7, 3]] * 5.0, docs, doc_ids, ["qa", "qb"], k=5)
    assert [next(iter(run[q])) for q in ("qa", "qb")] == ["d7", "d3"]
    assert run["qa"]["d7"] == pytest.approx(1.0, abs=1e-5)
    scores = list(run["qa"].values())
    assert len(scores) == 5 and scores == sorted(scores, reverse=True)


def test_exact_search_k_larger_than_corpus_and_small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("adaptlab.eval.exact_search.BLOCK_BYTES", 4 * 3)  # one query per block
    docs = np.eye(3, dtype=np.float32)
    run = exact_search(docs, docs, ["a", "b", "c"], ["qa", "qb", "qc"], k=10)
    assert [next(iter(run[q])) for q in ("qa", "qb", "qc")] == ["a", "b", "c"]
    assert all(len(r) == 3 for r in run.values())
