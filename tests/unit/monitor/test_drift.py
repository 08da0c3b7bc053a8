"""Drift detector: language mix test, the Bonferroni decision, the reference file and the history report."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.monitor.drift import DriftDetector, Reference, language_p_value, query_languages
from adaptlab.monitor.history import append_window, drift_table, html_report, read_windows


def test_query_languages_tells_german_from_english() -> None:
    assert query_languages(
        ["Wer muss die Anlage an das Netz anschließen?", "Who pays the grid connection costs?"]
    ) == ["de", "en"]


def test_language_mix_shift_has_a_small_p_value() -> None:
    same = language_p_value(Counter(de=50, en=50), Counter(de=48, en=52))
    switched = language_p_value(Counter(de=50, en=50), Counter(de=95, en=5))
    assert same > 0.5 and switched < 1e-6
    # one language on both sides: nothing to test
    assert language_p_value(Counter(en=100), Counter(en=80)) == 1.0
    # too few queries for chi-square: the exact permutation test decides
    assert language_p_value(Counter(en=12), Counter(de=6)) < 0.005
    assert language_p_value(Counter(en=3, de=3), Counter(en=2, de=2)) == 1.0


def _reference(rng: np.random.Generator) -> Reference:
    return Reference(rng.normal(size=(60, 16)), ["en"] * 60, "test", 0.0)


def test_detector_flags_embedding_and_language_shifts_separately() -> None:
    rng = np.random.default_rng(0)
    detector = DriftDetector(_reference(rng), alpha=0.01, permutations=300)
    calm = detector.test(rng.normal(size=(60, 16)), ["en"] * 60)
    moved = detector.test(rng.normal(size=(60, 16)) + 0.7, ["en"] * 60)
    german = detector.test(rng.normal(size=(60, 16)), ["de"] * 40 + ["en"] * 20)
    assert not calm.drift and calm.kinds == []
    assert moved.drift and moved.kinds == ["embedding"]
    assert german.drift and german.kinds == ["language"]


def test_reference_round_trips_and_missing_one_is_a_clear_error(tmp_path: Path) -> None:
    ref = _reference(np.random.default_rng(0))
    loaded = Reference.load(ref.save(tmp_path / "ref.npz"))
    assert np.allclose(loaded.embeddings, ref.embeddings, atol=1e-6) and loaded.languages == ref.languages
    with pytest.raises(AdaptlabError, match="monitor reference"):
        Reference.load(tmp_path / "missing.npz")
    with pytest.raises(AdaptlabError, match="at least 10"):
        DriftDetector(Reference(np.zeros((3, 2)), ["en"] * 3, "m", 0.0))
    with pytest.raises(AdaptlabError, match="at least 200"):
        DriftDetector(ref, alpha=0.01, permutations=100)


def test_history_appends_reads_and_renders(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    detector = DriftDetector(_reference(rng), permutations=300)
    for shift in (0.0, 1.0):
        append_window(
            tmp_path, detector.test(rng.normal(size=(30, 16)) + shift, ["en"] * 30, f"s{shift}").as_dict()
        )
    (tmp_path / "monitor" / "drift.jsonl").open("a").write("{half a line")
    records = read_windows(tmp_path)
    assert [r["drift"] for r in records] == [False, True]
    assert drift_table(records).row_count == 2
    page = html_report(records, [])
    assert page.count("class=alert") == 1 and "s1.0" in page
