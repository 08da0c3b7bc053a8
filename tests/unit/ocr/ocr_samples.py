"""Texts and prerequisites shared by the OCR tests (a helper module, not a conftest: a second
`conftest` module would shadow tests/conftest.py for the integration tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adaptlab.ocr.engine import OcrUnavailableError, TesseractOcr, check_tesseract
from adaptlab.ocr.synthetic import find_font

GERMAN = (
    "Die Übertragungsnetzbetreiber müssen für die Größe der Anlagen gemäß Absatz 3 jährlich einen Bericht "
    "über Maßnahmen zur Versorgungssicherheit vorlegen. Außerdem prüft die Bundesnetzagentur, ob die "
    "Einspeisung aus Windenergie an Land und Solaranlagen auf Dächern den Bedarf deckt."
)
ENGLISH = (
    "The transmission system operators shall report every year on measures for security of supply. "
    "The regulator checks whether onshore wind and rooftop solar cover the expected demand."
)


def require_font() -> Path:
    path = find_font()
    if path is None:
        pytest.skip("no TrueType font found; apt-get install fonts-dejavu-core")
    return path


def require_tesseract() -> TesseractOcr:
    try:
        check_tesseract()
    except OcrUnavailableError as err:
        pytest.skip(str(err))
    return TesseractOcr()
