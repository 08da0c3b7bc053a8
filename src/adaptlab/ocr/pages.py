"""Page images from scanned PDFs and image files, read by Tesseract and sorted by the quality gate.

PDF pages are rendered with pypdfium2 (a self-contained PDFium wheel, no poppler needed); image
files may hold several frames (multi-page TIFF), each a page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

from adaptlab.ocr.engine import INSTALL_HINT, OcrResult, OcrUnavailableError, TesseractOcr
from adaptlab.ocr.gate import GateDecision, QualityGate

DEFAULT_DPI = 300
# Pillow refuses images over ~179 MP as decompression bombs; a 300-dpi A0 scan stays below this
MAX_PIXELS = 180_000_000


@dataclass
class OcrPage:
    """One page's OCR outcome: `kept` pages are indexed, the others are held back with `reason`."""

    page: int
    result: OcrResult
    decision: GateDecision

    @property
    def kept(self) -> bool:
        return self.decision.passed


class BadImageError(ValueError):
    """An image file Pillow cannot decode; the message is the one-line reason."""


def render_pdf_pages(
    path: Path, pages: Iterable[int], dpi: int = DEFAULT_DPI
) -> Iterator[tuple[int, Image.Image]]:
    """(1-based page number, rendered image) for the requested pages."""
    try:
        import pypdfium2 as pdfium
    except ImportError:
        raise OcrUnavailableError(f"rendering scanned PDF pages needs pypdfium2; {INSTALL_HINT}") from None
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as err:
        raise BadImageError(f"PDF cannot be rendered for OCR ({err})") from None
    try:
        for number in pages:
            try:
                page = pdf[number - 1]
                image = page.render(scale=dpi / 72, grayscale=True).to_pil()
                page.close()
            except pdfium.PdfiumError as err:
                raise BadImageError(f"page {number} cannot be rendered for OCR ({err})") from None
            yield number, image
    finally:
        pdf.close()


def image_frames(path: Path) -> Iterator[tuple[int, Image.Image]]:
    """(1-based frame number, image) for every frame of an image file."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(path) as image:
            for number, frame in enumerate(ImageSequence.Iterator(image), 1):
                yield number, frame.copy()
    except UnidentifiedImageError:
        raise BadImageError("not a readable image (corrupt or unknown format)") from None
    except Image.DecompressionBombError:
        raise BadImageError(f"image over {MAX_PIXELS // 1_000_000} megapixels; scale it down") from None
    except (OSError, SyntaxError) as err:  # truncated files surface as OSError from the decoder
        raise BadImageError(f"corrupt image ({' '.join(str(err).split())})") from None


def ocr_pages(
    images: Iterable[tuple[int, Image.Image]], engine: TesseractOcr, gate: QualityGate
) -> list[OcrPage]:
    """OCR every page image and let the gate decide on each."""
    outcomes = []
    for number, image in images:
        result = engine.read(image)
        outcomes.append(OcrPage(number, result, gate.check(result)))
    return outcomes
