"""The MMD permutation test: calibrated under the null, powerful under a shift, matches the direct formula."""

from __future__ import annotations

import numpy as np
import pytest

from adaptlab.monitor.mmd import _unbiased_mmd2, mmd_permutation_test, squared_distances


def test_vectorised_statistic_equals_the_textbook_formula() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(5, 3)) + 0.5
    z = np.vstack([x, y])
    k = np.exp(-squared_distances(z) / 2.0)
    kxx, kyy, kxy = k[:7, :7], k[7:, 7:], k[:7, 7:]
    direct = ((kxx.sum() - 7) / 42) + ((kyy.sum() - 5) / 20) - 2 * kxy.mean()
    labels = np.zeros((12, 1))
    labels[:7] = 1
    assert _unbiased_mmd2(k, labels, 7, 5)[0] == pytest.approx(direct)
    assert mmd_permutation_test(x, y, 10, bandwidth=1.0).statistic == pytest.approx(direct)


def test_false_alarms_stay_near_alpha_and_a_shift_is_found() -> None:
    rng = np.random.default_rng(1)
    p_null = [
        mmd_permutation_test(rng.normal(size=(40, 8)), rng.normal(size=(40, 8)), 200, seed=i).p_value
        for i in range(60)
    ]
    assert np.mean(np.array(p_null) < 0.05) <= 0.15  # 5 % expected; 60 trials leave room for chance
    assert 0.2 < np.mean(p_null) < 0.8  # p-values are roughly uniform under the null
    shifted = mmd_permutation_test(rng.normal(size=(40, 8)), rng.normal(size=(40, 8)) + 0.8, 200)
    assert shifted.p_value < 0.01 and shifted.statistic > 0


def test_too_small_samples_are_refused() -> None:
    with pytest.raises(ValueError):
        mmd_permutation_test(np.zeros((1, 2)), np.zeros((5, 2)))
