"""The gate's decision rules and the error-rate arithmetic, on known values."""

from __future__ import annotations

import pytest

from adaptlab.ocr import OcrResult, QualityGate
from adaptlab.ocr.gate import MIN_CONFIDENCE_ENV, default_min_confidence
from adaptlab.ocr.metrics import cer, wer


@pytest.mark.parametrize(
    ("confidence", "words", "passed"),
    [(95.0, 40, True), (70.0, 3, True), (69.9, 40, False), (99.0, 0, False)],
)
def test_gate_passes_on_confidence_and_word_count(confidence: float, words: int, passed: bool) -> None:
    assert QualityGate(min_confidence=70).check(OcrResult("x", confidence, words)).passed is passed


def test_threshold_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MIN_CONFIDENCE_ENV, "55.5")
    assert default_min_confidence() == 55.5
    monkeypatch.setenv(MIN_CONFIDENCE_ENV, "not a number")
    assert default_min_confidence() == 70.0


def test_error_rates_ignore_layout_whitespace_and_count_real_edits() -> None:
    assert cer("Größe der Anlage", "Größe  der\nAnlage") == 0.0
    assert cer("Größe", "Grobe") == pytest.approx(2 / 5)
    assert wer("die Größe der Anlage", "die Grobe der Anlage") == pytest.approx(1 / 4)
    assert cer("abc", "") == 1.0 and cer("", "") == 0.0
