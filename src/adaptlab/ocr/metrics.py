"""Character and word error rates (jiwer) after the whitespace normalisation OCR comparisons need.

Line breaks are layout, not content: the reference and the OCR output are compared as one line of
single-spaced words, so only misread characters and words count.
"""

from __future__ import annotations


def normalise(text: str) -> str:
    return " ".join(text.split())


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: edits per reference character (0 is perfect; can exceed 1)."""
    import jiwer

    reference, hypothesis = normalise(reference), normalise(hypothesis)
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return float(jiwer.cer(reference, hypothesis or " "))


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word edits per reference word."""
    import jiwer

    reference, hypothesis = normalise(reference), normalise(hypothesis)
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return float(jiwer.wer(reference, hypothesis or " "))
