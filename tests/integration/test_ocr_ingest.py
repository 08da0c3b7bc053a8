"""`adaptlab ingest` on scans made here: an image-only PDF is OCR'd, indexed and found; a smudged
page is held back with the gate's reason; a machine without Tesseract gets the install line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli

from adaptlab.ocr.engine import OcrUnavailableError, check_tesseract
from adaptlab.ocr.synthetic import HEAVY, degrade, find_font, render_text

TEXT = (
    "Die Übertragungsnetzbetreiber müssen für die Größe der Anlagen gemäß Absatz 3 jährlich einen "
    "Bericht über Maßnahmen zur Versorgungssicherheit vorlegen."
)
pytestmark = pytest.mark.slow


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    font = find_font()
    if font is None:
        pytest.skip("no TrueType font found; apt-get install fonts-dejavu-core")
    folder = tmp_path / "scans"
    folder.mkdir()
    page = render_text(TEXT, font)
    page.save(folder / "bericht.pdf", "PDF", resolution=150.0)  # image only: no text layer
    degrade(page, HEAVY).save(folder / "verschmiert.png")
    return folder


def test_image_only_pdf_is_ingested_end_to_end_and_the_smudged_scan_is_held_back(
    workspace: Path, scans: Path
) -> None:
    try:
        check_tesseract()
    except OcrUnavailableError as err:
        pytest.skip(str(err))
    result = run_cli("ingest", str(scans), "--json", "--tracking-uri", "none")
    assert result.returncode == 1, result.stderr  # one file held back
    report = json.loads(result.stdout)
    assert report["files_ingested"] == 1 and report["chunks_written"] == 1
    assert report["corpus"]["document_languages"] == {"de": 1}
    [skipped] = report["skipped"]
    assert skipped["path"].endswith("verschmiert.png")
    assert skipped["reason"].startswith(
        "OCR quality gate held back all 1 page(s) of the image (confidence p1 "
    )
    found = run_cli("search", "Maßnahmen zur Versorgungssicherheit", "--mode", "bm25")
    assert found.returncode == 0, found.stderr
    assert "bericht.pdf" in found.stdout and "Übertragungsnetzbetreiber" in found.stdout


def test_without_tesseract_each_scan_is_skipped_with_the_install_line(workspace: Path, scans: Path) -> None:
    env = {**os.environ, "PATH": str(workspace.parent / "empty-bin"), "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "adaptlab", "ingest", str(scans), "--json", "--tracking-uri", "none"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 1, result.stderr
    reasons = {Path(s["path"]).name: s["reason"] for s in json.loads(result.stdout)["skipped"]}
    install = "install Tesseract: apt-get install tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng"
    assert set(reasons) == {"bericht.pdf", "verschmiert.png"}
    assert all(
        r.startswith("the tesseract program was not found; ") and install in r for r in reasons.values()
    )
