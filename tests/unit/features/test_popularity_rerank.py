"""The /search re-ranking from online features: popularity boost and rating filter."""

from __future__ import annotations

import math

from adaptlab.features.ranking import rerank
from adaptlab.retrieval.dense import SearchHit


def hit(rank: int, score: float, chunk: str) -> SearchHit:
    return SearchHit(rank, score, chunk, "text", "", "title", "src", None, "de", {})


HITS = [hit(1, 0.80, "a"), hit(2, 0.75, "b"), hit(3, 0.70, "c"), hit(4, 0.60, "d")]


def test_popular_documents_move_up_by_weight_times_popularity() -> None:
    features = {"c": {"popularity": math.log1p(20), "ratings": 0}, "a": {"popularity": None}}
    out = rerank(HITS, features, boost=0.05, min_rating=None)
    assert [h.chunk_id for h in out] == ["c", "a", "b", "d"]
    assert [h.rank for h in out] == [1, 2, 3, 4]
    assert math.isclose(out[0].score, 0.70 + 0.05 * math.log1p(20))
    assert out[1].score == 0.80  # no features (never clicked, or not materialized): unchanged


def test_zero_boost_keeps_the_order_and_scores() -> None:
    out = rerank(HITS, {"d": {"popularity": 5.0}}, boost=0.0, min_rating=None)
    assert [(h.chunk_id, h.score, h.rank) for h in out] == [(h.chunk_id, h.score, h.rank) for h in HITS]


def test_min_rating_drops_poorly_rated_documents_but_keeps_unrated_ones() -> None:
    features = {
        "a": {"ratings": 3, "mean_rating": 1.5, "popularity": 0.0},  # rated badly: dropped
        "b": {"ratings": 1, "mean_rating": 4.0, "popularity": 0.0},
        "c": {"ratings": 0, "mean_rating": 0.0, "popularity": 0.0},  # nobody rated it: stays
    }
    out = rerank(HITS, features, boost=0.0, min_rating=2.0)
    assert [h.chunk_id for h in out] == ["b", "c", "d"]
    assert [h.rank for h in out] == [1, 2, 3]
