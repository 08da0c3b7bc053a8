"""Reranking: the head is re-sorted, the tail kept below; bi-encoder rescoring with a real model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.models.loading import load_embedder
from adaptlab.retrieval.dense import SearchHit
from adaptlab.retrieval.rerank import BiEncoderRescorer, load_reranker, rerank_hits, rerank_rankings, reorder


class WordOverlap:
    """A transparent reranker for the ordering logic: shared lower-cased words."""

    name = "overlap"

    def __init__(self) -> None:
        self.calls = 0

    def score_pairs(self, queries: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return np.array(
            [len(set(q.lower().split()) & set(t.lower().split())) for q, t in zip(queries, texts)],
            dtype=np.float32,
        )


def _hit(rank: int, chunk_id: str, text: str, heading: str = "") -> SearchHit:
    return SearchHit(rank, 1.0 / rank, chunk_id, text, heading, "", "doc.md", None, "en", {})


def test_reorder_sorts_the_head_and_keeps_the_tail_below_in_order() -> None:
    ranking = [("a", 0.9), ("b", 0.8), ("c", 0.7), ("d", 0.6), ("e", 0.5)]
    out = reorder(ranking, np.array([0.1, 0.9, 0.5]), top_n=3)
    assert [d for d, _ in out] == ["b", "c", "a", "d", "e"]
    scores = [s for _, s in out]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 5  # any score sort keeps this order


def test_reorder_ties_keep_the_first_stage_order_and_blend_mixes_it_in() -> None:
    ranking = [("a", 10.0), ("b", 5.0), ("c", 0.0)]
    assert [d for d, _ in reorder(ranking, np.array([1.0, 1.0, 2.0]), 3)] == ["c", "a", "b"]
    # blended half and half: a = 0.5·0 + 0.5·1, c = 0.5·1 + 0.5·0, b = 0.5·0.5 + 0.5·0.5 — a tie kept in order
    blended = reorder(ranking, np.array([0.0, 0.5, 1.0]), 3, blend=0.5)
    assert [d for d, _ in blended] == ["a", "b", "c"]
    with pytest.raises(ValueError):
        reorder(ranking, np.array([1.0]), 3)


def test_rerank_hits_scores_every_query_in_one_call_and_cuts_to_k() -> None:
    reranker = WordOverlap()
    hits = [
        [_hit(1, "x1", "solar power"), _hit(2, "x2", "wind turbine noise rules"), _hit(3, "x3", "tail text")],
        [_hit(1, "y1", "heat pump"), _hit(2, "y2", "district heating network")],
    ]
    out = rerank_hits(reranker, ["wind turbine rules", "heating network"], hits, top_n=2, k=2)
    assert reranker.calls == 1
    assert [h.chunk_id for h in out[0]] == ["x2", "x1"] and [h.rank for h in out[0]] == [1, 2]
    assert [h.chunk_id for h in out[1]] == ["y2", "y1"] and out[1][0].score == 2.0
    assert out[0][0].text == "wind turbine noise rules"  # unchanged apart from rank and score


def test_rerank_reads_the_heading_with_the_text() -> None:
    hits = [[_hit(1, "a", "some text"), _hit(2, "b", "other text", heading="Begriffsbestimmungen")]]
    out = rerank_hits(WordOverlap(), ["begriffsbestimmungen"], hits, top_n=2)
    assert out[0][0].chunk_id == "b"


def test_rerank_rankings_handles_short_and_empty_rankings() -> None:
    texts = {"a": "wind", "b": "wind power", "c": "sun"}
    out = rerank_rankings(
        WordOverlap(),
        ["wind power", "x"],
        [[("a", 1.0), ("b", 0.5), ("c", 0.1)], []],
        texts.__getitem__,
        top_n=30,
    )
    assert [d for d, _ in out[0]] == ["b", "a", "c"] and out[1] == []


@pytest.mark.slow
def test_rerank_hits_blends_by_the_rerankers_own_weight_unless_told() -> None:
    hits = [[_hit(1, "a", "x"), _hit(2, "b", "wind rules"), _hit(3, "c", "wind")]]  # first stage 1, 1/2, 1/3
    blended = WordOverlap()
    blended.blend = 0.5  # b: 0.5·1 + 0.5·0.25 beats a: 0.5·0 + 0.5·1
    assert [h.chunk_id for h in rerank_hits(blended, ["wind rules"], hits)[0]] == ["b", "a", "c"]
    assert [h.chunk_id for h in rerank_hits(blended, ["wind rules"], hits, blend=0.0)[0]] == ["b", "c", "a"]
    assert [h.chunk_id for h in rerank_hits(WordOverlap(), ["wind rules"], hits)[0]] == ["b", "c", "a"]


@pytest.mark.slow
def test_bi_encoder_rescoring_prefers_the_matching_passage(tmp_path) -> None:
    rescorer = BiEncoderRescorer(load_embedder("minilm", tmp_path))
    passages = [
        "The cat sleeps on the sofa all afternoon.",
        "Wind turbines convert wind energy into electricity.",
    ]
    scores = rescorer.score_pairs(
        ["how do wind turbines make electricity", "how do wind turbines make electricity"], passages
    )
    assert scores.shape == (2,) and scores[1] > scores[0] and -1.0 <= scores.min() <= scores.max() <= 1.0
    hits = [[_hit(1, "cat", passages[0]), _hit(2, "wind", passages[1])]]
    assert rerank_hits(rescorer, ["how do wind turbines make electricity"], hits, blend=0.0)[0][0].chunk_id == "wind"


def test_load_reranker_falls_back_to_bi_encoder_and_rejects_unknown_names(tmp_path) -> None:
    loaded: list[str] = []

    def embedder(name: str):
        loaded.append(name)
        return load_embedder("minilm", tmp_path)

    assert load_reranker("auto", {}, embedder, "minilm").name.startswith("bi:")
    assert isinstance(load_reranker("bi:use-multilingual", {}, embedder, "minilm"), BiEncoderRescorer)
    assert loaded == ["minilm", "use-multilingual"]
    with pytest.raises(AdaptlabError, match="neither a registered cross-encoder"):
        load_reranker(
            "no-such-reranker", {"other": {"kind": "sentence-transformers", "path": "x"}}, embedder, "m"
        )
