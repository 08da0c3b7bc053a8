"""The loader contract: a file path in, Documents out, or a LoadError whose message is the one-line reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

from adaptlab.corpus.types import Document


class LoadError(Exception):
    """A file that cannot be loaded. The message is a short reason ("corrupt PDF: ...")."""


@dataclass
class LoaderOptions:
    """Knobs for the structured formats (json/jsonl/csv) and MaStR; also the `corpus:` config section."""

    text_fields: list[str] = field(default_factory=lambda: ["text", "content", "body"])
    title_field: str | None = "title"
    id_field: str | None = "id"
    metadata_fields: list[str] | None = None  # None: every other scalar field
    csv_delimiter: str | None = None  # None: sniff
    max_file_mb: float = 100.0
    mastr_schema_dir: Path | None = None  # default: the shared `mastr/` folder, else field names
    ocr_languages: str = "deu+eng"  # Tesseract languages for images and PDF pages without a text layer
    ocr_min_confidence: float | None = None  # None: $ADAPTLAB_OCR_MIN_CONFIDENCE, else the measured default
    ocr_dpi: int = 300  # resolution scanned PDF pages are rendered at for OCR


Loader = Callable[[Path, LoaderOptions], list[Document]]
