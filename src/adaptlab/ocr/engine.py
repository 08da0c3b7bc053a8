"""Tesseract through pytesseract: page text plus the mean word confidence the quality gate needs.

One `image_to_data` call gives both the words and their confidences, so the text is rebuilt from
that table (block / paragraph / line) instead of running Tesseract a second time for the string.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image

from adaptlab.errors import AdaptlabError

# several ingest workers OCR in parallel; Tesseract's own OpenMP threads would only fight them
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

DEFAULT_LANGUAGES = "deu+eng"
INSTALL_HINT = (
    "install Tesseract: apt-get install tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng "
    "and pip install 'adaptlab[ocr]'"
)
_LANG_PACKAGES = {"deu": "tesseract-ocr-deu", "eng": "tesseract-ocr-eng"}


class OcrUnavailableError(AdaptlabError):
    """Tesseract, its Python binding or a language pack is missing; the message says what to install."""


@dataclass
class OcrResult:
    """What Tesseract read on one page: text, mean word confidence (0-100) and the word count."""

    text: str
    confidence: float
    words: int


@lru_cache(maxsize=1)
def _installed_languages(command: str) -> frozenset[str]:
    import pytesseract

    return frozenset(pytesseract.get_languages(config=""))


def check_tesseract(languages: str = DEFAULT_LANGUAGES) -> None:
    """Fail with one line naming the missing piece: binding, binary or language pack."""
    try:
        import pytesseract
    except ImportError:
        raise OcrUnavailableError(f"OCR needs pytesseract; {INSTALL_HINT}") from None
    command = pytesseract.pytesseract.tesseract_cmd
    if shutil.which(command) is None:
        raise OcrUnavailableError(f"the tesseract program was not found; {INSTALL_HINT}")
    missing = [lang for lang in languages.split("+") if lang not in _installed_languages(command)]
    if missing:
        packages = " ".join(_LANG_PACKAGES.get(lang, f"tesseract-ocr-{lang}") for lang in missing)
        raise OcrUnavailableError(
            f"Tesseract language data missing ({', '.join(missing)}); apt-get install {packages}"
        )


class TesseractOcr:
    """Reads page images with Tesseract in the given languages (`deu+eng` covers mixed corpora)."""

    def __init__(self, languages: str = DEFAULT_LANGUAGES, psm: int = 3) -> None:
        check_tesseract(languages)
        self.languages = languages
        self.config = f"--psm {psm}"

    def read(self, image: Image.Image) -> OcrResult:
        """Text (lines and paragraphs as Tesseract found them) and the mean confidence of its words."""
        import pytesseract

        data = pytesseract.image_to_data(
            _prepare(image), lang=self.languages, config=self.config, output_type=pytesseract.Output.DICT
        )
        return _result_from_data(data)


def _prepare(image: Image.Image) -> Image.Image:
    """Grey scale without alpha: a transparent background would otherwise turn black."""
    if image.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGB", image.size, "white")
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").split()[-1])
        image = background
    return image.convert("L")


def _result_from_data(data: dict[str, list]) -> OcrResult:
    paragraphs: dict[tuple[int, int], dict[int, list[str]]] = {}
    confidences: list[float] = []
    for text, conf, block, par, line in zip(
        data["text"], data["conf"], data["block_num"], data["par_num"], data["line_num"]
    ):
        word = str(text).strip()
        if not word or float(conf) < 0:
            continue
        confidences.append(float(conf))
        paragraphs.setdefault((block, par), {}).setdefault(line, []).append(word)
    text = "\n\n".join(
        "\n".join(" ".join(words) for words in lines.values()) for lines in paragraphs.values()
    )
    confidence = sum(confidences) / len(confidences) if confidences else 0.0
    return OcrResult(text=text, confidence=round(confidence, 2), words=len(confidences))
