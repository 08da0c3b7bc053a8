from adaptlab.eval.beir import load_beir
from adaptlab.eval.hybrid_eval import bm25_run, evaluate_bm25
from conftest import FIXTURES


def test_bm25_run_ranks_the_judged_document_first() -> None:
    ds = load_beir(FIXTURES / "beir-mini")
    run = bm25_run(ds, k=10)
    assert set(run) == set(ds.queries)
    for qid, docs in ds.qrels.items():
        assert next(iter(run[qid])) in docs


def test_evaluate_bm25_reports_the_usual_metrics() -> None:
    result, run = evaluate_bm25(load_beir(FIXTURES / "beir-mini"))
    assert result.model == "bm25" and result.metrics["ndcg@10"] > 0.9 and run
