"""Text cleaning: unicode normalisation, de-hyphenation across line breaks, whitespace and boilerplate."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

# regex substitutions run in C; str.translate with a dict walks every character in Python
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile("[\u00a0\u2002\u2003\u2009\u202f\u3000\t]")
_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb06": "st"}
_LIGATURE = re.compile("[" + "".join(_LIGATURES) + "]")
# "Energie-\nwirtschaft" -> "Energiewirtschaft"; "Nord-\nSüd" keeps its hyphen; "Wind-\nund Solar" keeps "Wind- und".
_CONJUNCTIONS = r"(?!(?:und|oder|bzw|sowie|bis|als|and|or|to)\b)"
_HYPHEN_BREAK = re.compile(r"(\w)[-\u2010]\n[ \t]*" + _CONJUNCTIONS + r"([a-zäöüß])")
_HYPHEN_BREAK_UPPER = re.compile(r"(\w)[-\u2010]\n[ \t]*" + _CONJUNCTIONS + r"(\w)")
_PAGE_NUMBER = re.compile(r"^\s*(?:-\s*\d+\s*-|(?:Seite|Page)\s+\d+(?:\s+(?:von|of)\s+\d+)?|\d{1,4})\s*$", re.I)
_LIST_START = re.compile(r"^\s*(?:[-*•]|\d+[.)]|\(\d+\)|[a-z][.)]|\([a-z]\))\s")


def normalize_unicode(text: str) -> str:
    """NFC (not NFKC: it would turn m² into m2), plus ligatures, invisible characters and odd spaces."""
    text = unicodedata.normalize("NFC", text)
    text = _LIGATURE.sub(lambda m: _LIGATURES[m.group()], text)
    text = _SPACES.sub(" ", _INVISIBLE.sub("", text))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def dehyphenate(text: str) -> str:
    """Join words split by a hyphen at a line break, as PDFs and wrapped text do."""
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    return _HYPHEN_BREAK_UPPER.sub(r"\1-\2", text)


def normalize_whitespace(text: str) -> str:
    """Paragraphs (blank lines) are kept; lines wrapped inside a paragraph are joined, lists stay lists."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [re.sub(r" {2,}", " ", line).strip() for line in block.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            continue
        merged = [lines[0]]
        for line in lines[1:]:
            if _LIST_START.match(line):
                merged.append(line)
            else:
                merged[-1] = f"{merged[-1]} {line}"
        paragraphs.append("\n".join(merged))
    return "\n\n".join(paragraphs)


def drop_page_furniture(pages: list[str], min_pages: int = 3, share: float = 0.6) -> list[str]:
    """Remove page numbers, and header/footer lines repeated on most pages of a multi-page document."""
    repeated: set[str] = set()
    if len(pages) >= min_pages:
        counts = Counter(line.strip() for page in pages for line in set(page.split("\n")) if line.strip())
        repeated = {line for line, n in counts.items() if n >= share * len(pages) and len(line) < 120}
    cleaned = []
    for page in pages:
        lines = [ln for ln in page.split("\n") if ln.strip() not in repeated and not _PAGE_NUMBER.match(ln)]
        cleaned.append("\n".join(lines))
    return cleaned


def clean_text(text: str) -> str:
    """The full cleaning chain for one stretch of text."""
    return normalize_whitespace(dehyphenate(normalize_unicode(text)))
