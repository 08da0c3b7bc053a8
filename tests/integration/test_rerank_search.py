"""Reranking end to end: train a tiny cross-encoder with the real stage on the fixture corpus, then search
with `--rerank` through the real CLI and the HTTP API."""

from __future__ import annotations

import json
import shutil

import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.pipeline import Session
from adaptlab.retrieval.rerank import DEFAULT_TOP_N, CrossEncoderReranker, hit_text, is_cross_encoder_dir
from adaptlab.train.model_store import load_model, registered_models
from adaptlab.train.reranker_config import RerankerConfig
from adaptlab.train.reranker_trainer import train_reranker
from conftest import FIXTURES, run_cli

pytestmark = pytest.mark.slow
QUERY = "Genehmigung von Windenergieanlagen"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """A workspace over the fixture documents (BM25 only, no vectors) with a reranker trained for 2 steps."""
    root = tmp_path_factory.mktemp("rerank")
    shutil.copytree(FIXTURES / "docs", root / "docs")
    with Session.open(root / "ws", tracking_uri="none") as session:
        session.ingest([root / "docs"])
        config = RerankerConfig(
            max_steps=2,
            batch_size=4,
            max_length=48,
            miner_max_length=48,
            negatives=2,
            heldout_fraction=0.0,
            output="tiny-reranker",
        )
        report = train_reranker(session, config)
    return root / "ws", report


def test_stage_mines_negatives_trains_saves_and_registers(trained) -> None:
    workspace, report = trained
    assert report.steps == 2 and report.train_queries >= 2
    # every query keeps its positive and gets both negatives (mined, or topped up from the pool)
    assert report.positives == report.train_queries and report.labelled_pairs == 3 * report.train_queries
    assert is_cross_encoder_dir(report.path) and (report.path / "README.md").is_file()
    assert registered_models(Session.open(workspace).workspace)["tiny-reranker"]["kind"] == "cross-encoder"
    with pytest.raises(AdaptlabError, match="cross-encoder reranker"):
        load_model(Session.open(workspace).workspace, "tiny-reranker")


def test_cli_search_rerank_orders_hits_by_the_cross_encoder(trained) -> None:
    workspace, report = trained
    result = run_cli(
        "search",
        QUERY,
        "--mode",
        "bm25",
        "-k",
        "5",
        "--rerank",
        "tiny-reranker",
        "--json",
        "-w",
        str(workspace),
    )
    assert result.returncode == 0, result.stderr
    after = json.loads(result.stdout)
    with Session.open(workspace, tracking_uri="none") as session:
        before = session.search(QUERY, k=DEFAULT_TOP_N, mode="bm25")  # the candidates the reranker sees
    assert len(before) > 5  # more candidates than hits asked for: the reranker picks, not just re-sorts
    scorer = CrossEncoderReranker(report.path)
    expected = scorer.score_pairs([QUERY] * len(before), [hit_text(h) for h in before])
    order = [before[i].chunk_id for i in sorted(range(len(before)), key=lambda i: -expected[i])]
    assert [h["chunk_id"] for h in after] == order[:5]
    assert [h["rank"] for h in after] == list(range(1, len(after) + 1))
    assert after[0]["score"] == pytest.approx(float(max(expected)), abs=1e-4)


def test_cli_rerank_errors_are_one_line(trained) -> None:
    workspace, _ = trained
    result = run_cli("search", QUERY, "--mode", "bm25", "--rerank", "no-such", "-w", str(workspace))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "neither a registered cross-encoder" in result.stderr and "tiny-reranker" in result.stderr


def test_api_search_and_rag_apply_rerank(served: str) -> None:
    httpx = pytest.importorskip("httpx")
    with httpx.Client(base_url=served, timeout=120) as client:
        plain = client.post("/search", json={"query": QUERY, "k": 5, "mode": "bm25"}).json()["hits"]
        body = client.post(
            "/search", json={"query": QUERY, "k": 5, "mode": "bm25", "rerank": "bi", "rerank_top": 10}
        )
        assert body.status_code == 200, body.text
        hits = body.json()["hits"]
        assert hits and [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
        scores = [h["score"] for h in hits]
        assert scores == sorted(scores, reverse=True) and all(-1 <= s <= 1 for s in scores)  # cosines now
        assert [h["chunk_id"] for h in hits] != [h["chunk_id"] for h in plain] or scores != [
            h["score"] for h in plain
        ]
        rag = client.post("/rag", json={"question": QUERY, "k": 2, "rerank": "auto"})
        assert rag.status_code == 200, rag.text and rag.json()["sources"]
        bad = client.post("/search", json={"query": QUERY, "rerank": "../../etc"})
        assert bad.status_code == 422  # names only: a request cannot load a folder by path
        for spec in ("bi:not-served", "docs", "no-such-reranker"):  # a name that is a folder is still refused
            assert client.post("/search", json={"query": QUERY, "rerank": spec}).status_code == 404
