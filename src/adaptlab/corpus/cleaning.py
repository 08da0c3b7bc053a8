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
_MULTI_SPACE = re.compile(r" {2,}")
_BLANK_LINES = re.compile(r"\n\s*\n")
_LIST_START = re.compile(r"^\s*(?:[-*•]|\d+[.)]|\(\d+\)|[a-z][.)]|\([a-z]\))\s")


def normalize_unicode(text: str) -> str:
    """NFC (not NFKC: it would turn m² into m2), plus ligatures, invisible characters and odd spaces."""
    if not unicodedata.is_normalized("NFC", text):  # the check is a fast scan; most text is NFC already
        text = unicodedata.normalize("NFC", text)
    text = _LIGATURE.sub(lambda m: _LIGATURES[m.group()], text)
    text = _SPACES.sub(" ", _INVISIBLE.sub("", text))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def dehyphenate(text: str) -> str:
    """Join words split by a hyphen at a line break, as PDFs and wrapped text do."""
    if "-\n" not in text and "\u2010\n" not in text:
        return text
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    return _HYPHEN_BREAK_UPPER.sub(r"\1-\2", text)


def _join_lines(lines: list[str]) -> str:
    """Lines of one paragraph: wrapped lines joined with a space, list items kept on their own line."""
    parts = [lines[0]]
    for line in lines[1:]:
        parts.append("\n" if _LIST_START.match(line) else " ")
        parts.append(line)
    return "".join(parts)


def normalize_whitespace(text: str) -> str:
    """Paragraphs (blank lines) are kept; lines wrapped inside a paragraph are joined, lists stay lists."""
    paragraphs = []
    for block in _BLANK_LINES.split(_MULTI_SPACE.sub(" ", text)):
        lines = [stripped for line in block.split("\n") if (stripped := line.strip())]
        if lines:
            paragraphs.append(lines[0] if len(lines) == 1 else _join_lines(lines))
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
