"""The quality gate: a page whose OCR confidence is too low is held back, not indexed as garbage.

Tesseract's mean word confidence tracks the character error rate well enough to tell a clean scan
from a smudged one (see docs/results/ocr_quality.json for the measured relation and the gate's
precision); the threshold is the user's to move.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from adaptlab.ocr.engine import OcrResult

MIN_CONFIDENCE_ENV = "ADAPTLAB_OCR_MIN_CONFIDENCE"
DEFAULT_MIN_CONFIDENCE = 70.0


def default_min_confidence() -> float:
    """The threshold from $ADAPTLAB_OCR_MIN_CONFIDENCE, else the measured default."""
    value = os.environ.get(MIN_CONFIDENCE_ENV, "").strip()
    try:
        return float(value) if value else DEFAULT_MIN_CONFIDENCE
    except ValueError:
        return DEFAULT_MIN_CONFIDENCE


@dataclass
class GateDecision:
    passed: bool
    reason: str = ""


@dataclass
class QualityGate:
    """Pass pages with at least `min_words` words at a mean confidence of `min_confidence` or more."""

    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    min_words: int = 1

    def check(self, result: OcrResult) -> GateDecision:
        if result.words < self.min_words:
            return GateDecision(False, "OCR found no words")
        if result.confidence < self.min_confidence:
            return GateDecision(
                False, f"OCR confidence {result.confidence:.0f} below the threshold {self.min_confidence:g}"
            )
        return GateDecision(True)
