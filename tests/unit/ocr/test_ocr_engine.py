"""Tesseract on text rendered here: clean German and English read within 5 % CER, a bad scan is gated."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from adaptlab.ocr import OcrUnavailableError, QualityGate, TesseractOcr
from adaptlab.ocr.engine import _installed_languages
from adaptlab.ocr.gate import DEFAULT_MIN_CONFIDENCE
from adaptlab.ocr.metrics import cer
from adaptlab.ocr.synthetic import HEAVY, degrade, render_text
from ocr_samples import ENGLISH, GERMAN, require_font, require_tesseract


@pytest.fixture(scope="module")
def font() -> Path:
    return require_font()


@pytest.fixture(scope="module")
def tesseract() -> TesseractOcr:
    return require_tesseract()


@pytest.fixture(scope="module")
def german() -> str:
    return GERMAN


@pytest.fixture(scope="module")
def english() -> str:
    return ENGLISH


def test_clean_german_with_umlauts_and_eszett_is_read_within_5_percent_cer(
    font: Path, tesseract: TesseractOcr, german: str
) -> None:
    result = tesseract.read(render_text(german, font))
    assert cer(german, result.text) <= 0.05, result.text
    for word in ("Übertragungsnetzbetreiber", "Größe", "gemäß", "Maßnahmen", "Außerdem", "prüft"):
        assert word in result.text
    assert QualityGate().check(result).passed
    assert result.confidence >= DEFAULT_MIN_CONFIDENCE and result.words >= 30


def test_clean_english_is_read_within_5_percent_cer(
    font: Path, tesseract: TesseractOcr, english: str
) -> None:
    result = tesseract.read(render_text(english, font))
    assert cer(english, result.text) <= 0.05, result.text


def test_a_degraded_page_is_held_back_and_really_was_garbage(
    font: Path, tesseract: TesseractOcr, german: str
) -> None:
    result = tesseract.read(degrade(render_text(german, font), HEAVY))
    decision = QualityGate().check(result)
    assert not decision.passed
    assert decision.reason.startswith("OCR confidence") and "below the threshold 70" in decision.reason
    assert cer(german, result.text) > 0.15, "the gate must hold back pages that are actually misread"


def test_a_white_page_has_no_words_and_is_held_back(tesseract: TesseractOcr) -> None:
    result = tesseract.read(Image.new("RGBA", (600, 200), (255, 255, 255, 0)))
    assert result.words == 0 and result.text == ""
    assert QualityGate().check(result).reason == "OCR found no words"


def test_missing_tesseract_program_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(OcrUnavailableError) as info:
        TesseractOcr()
    message = str(info.value)
    assert "\n" not in message and "tesseract program was not found" in message
    assert "apt-get install tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng" in message


def test_missing_language_pack_names_the_debian_package(tesseract: TesseractOcr) -> None:
    assert "deu" in _installed_languages("tesseract")
    with pytest.raises(
        OcrUnavailableError, match=r"language data missing \(xyz\); apt-get install tesseract-ocr-xyz"
    ):
        TesseractOcr("deu+xyz")
