"""PDF: the text layer of each page as its own section, so citations can name the page.

The text layer is used wherever a page has one; pages without it (scans) are rendered and read by
Tesseract, and the OCR quality gate holds back pages too poor to index (see `loaders/image.py`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

from adaptlab.corpus.loaders.base import LoaderOptions, LoadError
from adaptlab.corpus.types import Document, Section

logger = logging.getLogger(__name__)
# pypdf logs its own repair attempts ("EOF marker not found"); our LoadError already says what matters
logging.getLogger("pypdf").setLevel(logging.ERROR)

_HEADER_SEARCH_BYTES = 1024
_EOF_SEARCH_BYTES = 2048
# pypdf reports malformed structure partly through its own errors, partly through built-in ones
_PASSWORD_REQUIRED = "encrypted PDF (password required); save an unprotected copy"
_PARSE_FAILURES = (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError)


def check_pdf_header(path: Path) -> None:
    """A file that is not a PDF at all deserves a different message than a damaged one."""
    with path.open("rb") as fh:
        head = fh.read(_HEADER_SEARCH_BYTES)
    if b"%PDF-" not in head:
        raise LoadError("not a PDF (no %PDF header); check the file type")


def _has_eof_marker(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - _EOF_SEARCH_BYTES))
        return b"%%EOF" in fh.read()


def open_pdf(path: Path) -> PdfReader:
    """A readable, decrypted reader; encryption with a real password is the user's to remove."""
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(_PASSWORD_REQUIRED)
        len(reader.pages)  # resolves the page tree, where most corruption shows up
    except DependencyError:
        raise LoadError("encrypted PDF needs the 'cryptography' package (pip install cryptography)") from None
    except FileNotDecryptedError:
        raise LoadError(_PASSWORD_REQUIRED) from None
    except _PARSE_FAILURES as err:
        reason = _reason(err) if _has_eof_marker(path) else "no EOF marker, probably truncated"
        raise LoadError(f"corrupt PDF ({reason}); re-export it") from None
    return reader


def _reason(err: Exception) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def page_texts(reader: PdfReader, path: Path) -> list[str]:
    """Text per page; a page whose content stream is broken counts as empty instead of failing all."""
    texts = []
    for number, page in enumerate(reader.pages, 1):
        try:
            texts.append(page.extract_text() or "")
        except _PARSE_FAILURES as err:
            logger.warning("%s: page %d unreadable (%s), skipped", path, number, _reason(err))
            texts.append("")
    return texts


def pdf_title(reader: PdfReader) -> str:
    """The title from the PDF's info dictionary, when it has a usable one."""
    try:
        info = reader.metadata
    except _PARSE_FAILURES:
        return ""
    title = info.title if info else None
    return title.strip() if isinstance(title, str) else ""


def load_pdf(path: Path, options: LoaderOptions) -> list[Document]:
    """One document per file, one section per page that has text (`page` is 1-based)."""
    check_pdf_header(path)
    reader = open_pdf(path)
    if not reader.pages:
        raise LoadError("PDF has no pages")
    texts = page_texts(reader, path)
    sections = [Section(text=text, page=n) for n, text in enumerate(texts, 1) if text.strip()]
    metadata: dict[str, object] = {"format": "pdf", "pages": len(texts)}
    scanned = [n for n, text in enumerate(texts, 1) if not text.strip()]
    if scanned:
        from adaptlab.corpus.loaders.image import gate_failure, ocr_sections
        from adaptlab.ocr.pages import BadImageError, render_pdf_pages

        try:
            ocr, ocr_metadata = ocr_sections(render_pdf_pages(path, scanned, options.ocr_dpi), path, options)
        except (LoadError, BadImageError) as err:
            if not sections:  # nothing to keep: the OCR problem is the file's problem
                raise LoadError(str(err)) from None
            logger.warning("pages without a text layer were not OCR'd: %s", err)
        else:
            sections = sorted(sections + ocr, key=lambda section: section.page or 0)
            if ocr_metadata["ocr_page_confidence"]:
                metadata.update(ocr_metadata)
            if not sections:
                raise gate_failure(ocr_metadata, options, "PDF")
    title = pdf_title(reader) or path.stem
    return [Document(source=str(path), key="", title=title, sections=sections, metadata=metadata)]
