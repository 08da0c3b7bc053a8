"""Ensemble weights chosen on held-out pairs: the grid, the choice, and the tie-break towards equal weights."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from adaptlab.eval.beir import BeirDataset
from adaptlab.models.base import Embedder
from adaptlab.train.ensemble_weights import choose_ensemble_weights, helper_grid, weight_grid

N = 6


class OneHot(Embedder):
    """Query i → e_i; document i → e_(i + shift): shift 0 retrieves perfectly, shift 1 always the wrong one."""

    def __init__(self, shift: int) -> None:
        self.name, self.dim, self.shift = f"shift{shift}", N, shift

    def _vectors(self, texts: Sequence[str], shift: int) -> np.ndarray:
        return np.eye(N, dtype=np.float32)[[(int(t.split()[-1]) + shift) % N for t in texts]]

    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._vectors(texts, self.shift)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._vectors(texts, 0)


def toy_set() -> BeirDataset:
    corpus = {f"d{i}": {"title": "", "text": f"passage {i}"} for i in range(N)}
    queries = {f"q{i}": f"question {i}" for i in range(N)}
    return BeirDataset("toy", corpus, queries, {f"q{i}": {f"d{i}": 1} for i in range(N)})


def test_grid_holds_every_weighting_in_quarters_that_sums_to_one() -> None:
    assert weight_grid(2) == [(0.0, 1.0), (0.25, 0.75), (0.5, 0.5), (0.75, 0.25), (1.0, 0.0)]
    three = weight_grid(3)
    assert len(three) == 15 and all(sum(w) == pytest.approx(1.0) for w in three)
    with pytest.raises(ValueError):
        weight_grid(0)


def test_a_member_that_retrieves_the_wrong_passage_gets_the_smaller_weight() -> None:
    choice = choose_ensemble_weights([OneHot(0), OneHot(1)], toy_set(), min_gain=0.0)
    # (1, 0) and (0.75, 0.25) both retrieve perfectly; the tie goes to the weighting nearer equal weights
    assert choice.weights == (0.75, 0.25)
    assert choice.scores["0.75/0.25"] == 1.0 and choice.scores["1/0"] == 1.0 and choice.scores["0/1"] < 0.5
    assert (choice.queries, choice.documents) == (N, N)
    assert choice.equal_score == choice.scores["0.5/0.5"] < 1.0
    assert choose_ensemble_weights([OneHot(0), OneHot(1)], toy_set()).weights == (0.75, 0.25)  # a clear gain


def test_equal_weights_stay_unless_another_weighting_gains_at_least_min_gain() -> None:
    choice = choose_ensemble_weights([OneHot(0), OneHot(1)], toy_set(), min_gain=1.0)
    assert choice.weights == (0.5, 0.5) and max(choice.scores.values()) == 1.0
    assert choose_ensemble_weights([OneHot(0), OneHot(0)], toy_set(), min_gain=0.0).weights == (0.5, 0.5)


def test_three_members_score_equal_weights_although_quarters_miss_them() -> None:
    choice = choose_ensemble_weights([OneHot(0), OneHot(0), OneHot(0)], toy_set())
    assert choice.weights == pytest.approx((1 / 3, 1 / 3, 1 / 3)) and len(choice.scores) == 16


def test_helper_grid_keeps_the_base_at_one_and_each_helper_at_most_as_heavy() -> None:
    assert helper_grid(2) == [(1.0, 0.0), (1.0, 0.25), (1.0, 0.5), (1.0, 0.75), (1.0, 1.0)]
    three = helper_grid(3)
    assert len(three) == 25 and all(w[0] == 1.0 and max(w[1:]) <= 1.0 for w in three)
    assert helper_grid(1) == [(1.0,)]
    with pytest.raises(ValueError):
        helper_grid(0)


def test_anchored_choice_takes_the_best_outright_and_ties_to_the_lightest_helper() -> None:
    # a helper that points at the wrong passage: every weight below the base's retrieves perfectly, so the
    # tie goes to 0 (the helper is dropped); at weight 1 it ties with the base and costs the ranking
    wrong = choose_ensemble_weights([OneHot(0), OneHot(1)], toy_set(), anchored=True)
    assert wrong.weights == (1.0, 0.0) and wrong.scores["1/1"] < 1.0 == wrong.scores["1/0.75"]
    assert wrong.equal_score == wrong.scores["1/1"] and len(wrong.scores) == 5
    # a helper that is right where the base is wrong wins whatever gain it brings: no margin over equal weights
    rescued = choose_ensemble_weights([OneHot(1), OneHot(0)], toy_set(), anchored=True, min_gain=1.0)
    assert rescued.weights == (1.0, 1.0) and rescued.scores["1/1"] > rescued.scores["1/0"]
