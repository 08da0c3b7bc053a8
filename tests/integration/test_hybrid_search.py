"""Hybrid search end to end, in-process: ingest the fixtures, embed with MiniLM, search every mode."""

from __future__ import annotations

import shutil

import pytest

import adaptlab
from adaptlab.errors import AdaptlabError
from conftest import FIXTURES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("hybrid")
    shutil.copytree(FIXTURES / "docs", root / "docs")
    session = adaptlab.open_session(str(root / "ws"), tracking_uri="none")
    session.ingest([root / "docs"])
    session.embed("minilm")
    yield session
    session.close()


def test_hybrid_search_returns_fused_ranked_hits(lab) -> None:
    hits = lab.search("BImSchG Genehmigung", k=3, mode="hybrid")
    assert "BImSchG" in hits[0].text
    assert [h.rank for h in hits] == [1, 2, 3] and hits[0].score >= hits[-1].score
    assert 0 < hits[0].score <= 1.0  # weighted sum (0.5/0.5) of two min-max normalised lists


def test_hybrid_keeps_what_either_side_finds(lab) -> None:
    dense = {h.chunk_id for h in lab.search("Wärmepumpe Umweltwärme", k=3)}
    lexical = {h.chunk_id for h in lab.search("Wärmepumpe Umweltwärme", k=3, mode="bm25")}
    fused = {h.chunk_id for h in lab.search("Wärmepumpe Umweltwärme", k=10, mode="hybrid")}
    assert dense | lexical <= fused


def test_hybrid_applies_the_filter_on_both_sides(lab) -> None:
    hits = lab.search("Anlagen", k=10, mode="hybrid", filter='lang == "de"')
    assert hits and {h.lang for h in hits} == {"de"}


def test_evaluate_hybrid_and_bm25_on_a_beir_folder(lab) -> None:
    results = lab.evaluate(["minilm"], [str(FIXTURES / "beir-mini")], retriever="hybrid", fusion="wsum")
    assert [r.model for r in results] == ["hybrid-wsum(bm25+minilm)"] and results[0].metrics["ndcg@10"] > 0.5
    (bm25,) = lab.evaluate([], [str(FIXTURES / "beir-mini")], retriever="bm25")
    assert bm25.model == "bm25"


def test_evaluate_scores_long_documents_from_windows_when_asked(lab) -> None:
    beir = str(FIXTURES / "beir-mini")
    (plain,) = lab.evaluate(["minilm"], [beir])
    (windowed,) = lab.evaluate(["minilm"], [beir], window_weight=0.5)
    (fused,) = lab.evaluate(["minilm"], [beir], retriever="hybrid", window_weight=0.5)
    # the fixture's documents fit MiniLM's 256 tokens: one window each, so nothing moves
    assert windowed.metrics == pytest.approx(plain.metrics) and fused.metrics["ndcg@10"] > 0.5
    with pytest.raises(AdaptlabError, match="between 0 and 1"):
        lab.evaluate(["minilm"], [beir], window_weight=1.5)
