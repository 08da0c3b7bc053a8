"""Images and scanned PDFs through `load_file`: OCR text per page, confidence in metadata, bad pages held back."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from adaptlab.corpus.loaders import LoaderOptions, LoadError, load_file
from adaptlab.ocr import TesseractOcr
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


def _text_layer_pdf(text: str) -> bytes:
    """One page with a real Helvetica text layer, written by hand (no reportlab)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_multipage_tiff_keeps_the_clean_page_and_holds_back_the_degraded_one(
    tmp_path: Path, font: Path, tesseract: TesseractOcr, caplog: pytest.LogCaptureFixture, german: str
) -> None:
    clean = render_text(german, font)
    path = tmp_path / "scan.tiff"
    clean.save(path, save_all=True, append_images=[degrade(clean, HEAVY).resize(clean.size)])
    with caplog.at_level(logging.WARNING):
        doc = load_file(path)[0]
    assert [s.page for s in doc.sections] == [1]
    assert cer(german, doc.sections[0].text) <= 0.05
    meta = doc.metadata
    assert meta["format"] == "tif" and meta["ocr"] is True and meta["pages"] == 2
    assert meta["ocr_held_back"] == [2]
    assert meta["ocr_page_confidence"]["1"] >= 70 > meta["ocr_page_confidence"]["2"]
    assert meta["ocr_confidence"] == meta["ocr_page_confidence"]["1"]
    assert any(
        "page 2 held back by the OCR quality gate: OCR confidence" in r.getMessage() for r in caplog.records
    )


def test_pdf_keeps_its_text_layer_and_ocrs_only_the_scanned_page(
    tmp_path: Path, font: Path, tesseract: TesseractOcr, english: str
) -> None:
    text_pdf, scan_pdf = tmp_path / "text.pdf", tmp_path / "scan.pdf"
    text_pdf.write_bytes(_text_layer_pdf("Seite eins aus der Textebene"))
    render_text(english, font).save(scan_pdf, "PDF", resolution=150.0)
    writer = PdfWriter()
    for part in (text_pdf, scan_pdf):
        writer.append(PdfReader(part))
    mixed = tmp_path / "mixed.pdf"
    writer.write(mixed)
    doc = load_file(mixed)[0]
    assert doc.sections[0].page == 1 and doc.sections[0].text == "Seite eins aus der Textebene"
    assert doc.sections[1].page == 2 and cer(english, doc.sections[1].text) <= 0.05
    assert list(doc.metadata["ocr_page_confidence"]) == ["2"], "the text-layer page is never OCR'd"


def test_threshold_is_configurable_per_load(tmp_path: Path, font: Path, tesseract: TesseractOcr) -> None:
    path = tmp_path / "klar.png"
    render_text("Windenergieanlage mit Nettonennleistung", font).save(path)
    with pytest.raises(
        LoadError, match=r"OCR quality gate held back all 1 page\(s\) of the image .* < 99\.9"
    ):
        load_file(path, LoaderOptions(ocr_min_confidence=99.9))
    assert load_file(path, LoaderOptions(ocr_min_confidence=10))[0].sections


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (
            "broken.png",
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
            "not a readable image (corrupt or unknown format)",
        ),
        ("fake.jpg", b"this is text, not a JPEG", "not a readable image (corrupt or unknown format)"),
    ],
)
def test_unreadable_images_are_one_line_errors(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert str(info.value) == reason


def test_blank_image_says_it_has_no_text(tmp_path: Path) -> None:
    path = tmp_path / "white.png"
    Image.new("L", (400, 300), 255).save(path)
    with pytest.raises(LoadError, match=r"^no text in the image \(no text layer, and its pages are blank\)$"):
        load_file(path)
