"""Images (png, jpg, tiff) and scanned PDF pages: text by OCR, pages below the quality gate held back.

A held-back page is logged as a warning (the ingest report lists it) and never indexed; a file
with no page left is a LoadError naming the gate, so the user can rescan or lower the threshold.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PIL import Image

from adaptlab.corpus.loaders.base import LoaderOptions, LoadError
from adaptlab.corpus.types import Document, Section

logger = logging.getLogger(__name__)
_INK_LEVEL = 200  # grey level below which a pixel counts as ink
_BLANK_INK_FRACTION = 1e-4  # fewer ink pixels than this: an empty page, not worth a Tesseract run


def is_blank(image: Image.Image) -> bool:
    """A page without ink (a blank separator page) is skipped silently instead of being 'unreadable'."""
    histogram = image.convert("L").histogram()
    return sum(histogram[:_INK_LEVEL]) < _BLANK_INK_FRACTION * image.width * image.height


def ocr_sections(
    images: Iterable[tuple[int, Image.Image]], path: Path, options: LoaderOptions
) -> tuple[list[Section], dict[str, Any]]:
    """Sections of the pages that pass the gate, and OCR metadata (per-page confidence, held-back pages)."""
    from adaptlab.ocr import OcrUnavailableError, QualityGate, TesseractOcr
    from adaptlab.ocr.gate import default_min_confidence
    from adaptlab.ocr.pages import ocr_pages

    threshold = options.ocr_min_confidence
    gate = QualityGate(default_min_confidence() if threshold is None else threshold)
    try:
        engine = TesseractOcr(options.ocr_languages)
        outcomes = ocr_pages(((n, im) for n, im in images if not is_blank(im)), engine, gate)
    except OcrUnavailableError as err:
        raise LoadError(str(err)) from None
    sections, confidence, held = [], {}, []
    for outcome in outcomes:
        confidence[str(outcome.page)] = outcome.result.confidence
        if outcome.kept:
            sections.append(Section(text=outcome.result.text, page=outcome.page))
        else:
            held.append(outcome.page)
    kept = [outcome.result.confidence for outcome in outcomes if outcome.kept]
    for outcome in outcomes if kept else []:  # with nothing kept, the file's LoadError says it all
        if not outcome.kept:
            logger.warning(
                "page %d held back by the OCR quality gate: %s", outcome.page, outcome.decision.reason
            )
    metadata: dict[str, Any] = {
        "ocr": True,
        "ocr_confidence": round(sum(kept) / len(kept), 2) if kept else 0.0,
        "ocr_page_confidence": confidence,
        "ocr_held_back": held,
    }
    return sections, metadata


def gate_failure(metadata: dict[str, Any], options: LoaderOptions, what: str) -> LoadError:
    """The one-line reason when the gate held back every page."""
    from adaptlab.ocr.gate import MIN_CONFIDENCE_ENV, default_min_confidence

    pages = metadata["ocr_page_confidence"]
    if not pages:
        return LoadError(f"no text in the {what} (no text layer, and its pages are blank)")
    threshold = (
        options.ocr_min_confidence if options.ocr_min_confidence is not None else default_min_confidence()
    )
    shown = ", ".join(f"p{page} {conf:.0f}" for page, conf in pages.items())
    return LoadError(
        f"OCR quality gate held back all {len(pages)} page(s) of the {what} (confidence {shown} < {threshold:g}); "
        f"rescan it or lower ${MIN_CONFIDENCE_ENV}"
    )


def load_image(path: Path, options: LoaderOptions) -> list[Document]:
    """One document per image file, one section per frame that passes the OCR gate."""
    from adaptlab.ocr.pages import BadImageError, image_frames

    try:
        sections, metadata = ocr_sections(image_frames(path), path, options)
    except BadImageError as err:
        raise LoadError(str(err)) from None
    if not sections:
        raise gate_failure(metadata, options, "image")
    metadata = {
        "format": path.suffix.lower().lstrip(".").replace("jpeg", "jpg").replace("tiff", "tif"),
        **metadata,
    }
    metadata["pages"] = len(metadata["ocr_page_confidence"])
    return [Document(source=str(path), key="", title=path.stem, sections=sections, metadata=metadata)]
