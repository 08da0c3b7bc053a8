"""Text cleaning: unicode normalisation, de-hyphenation across line breaks, whitespace and boilerplate."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

# regex substitutions run in C; str.translate with a dict walks every character in Python
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile("[\u00a0\u2002\u2003\u2009\u202f\u3000\t]")
_LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb06": "st",
}
_LIGATURE = re.compile("[" + "".join(_LIGATURES) + "]")
# "Energie-\nwirtschaft" -> "Energiewirtschaft"; "Nord-\nSüd" keeps its hyphen; "Wind-\nund Solar" keeps "Wind- und".
_CONJUNCTIONS = r"(?!(?:und|oder|bzw|sowie|bis|als|and|or|to)\b)"
_HYPHEN_BREAK = re.compile(r"(\w)[-\u2010]\n[ \t]*" + _CONJUNCTIONS + r"([a-zäöüß])")
_HYPHEN_BREAK_UPPER = re.compile(r"(\w)[-\u2010]\n[ \t]*" + _CONJUNCTIONS + r"(\w)")
_PAGE_NUMBER = re.compile(
    r"^\s*(?:-\s*\d+\s*-|(?:Seite|Page)\s+\d+(?:\s+(?:von|of)\s+\d+)?|\d{1,4})\s*$", re.I
)
# Python's regex engine scans fast only for a literal prefix ("  ", "\n\n", "\n"); a pattern that starts
# with a class or a lookbehind is tried at every character, so those run only where str.find saw a candidate.
_MULTI_SPACE = re.compile("  +")
_PARAGRAPH_BREAK = re.compile("\n\n+")
_LIST_ITEM = r"(?:[-*•]|\d+[.)]|\(\d+\)|[a-z][.)]|\([a-z]\))"
_BEFORE_LIST_ITEM = re.compile(r"\n(?=" + _LIST_ITEM + r"[^\S\n])")  # on stripped lines: \s stays in the line
_ODD_CHARS = tuple("\u00ad\u200b\u200c\u200d\u2060\ufeff\u00a0\u2002\u2003\u2009\u202f\u3000\t") + tuple(
    _LIGATURES
)
_LINE_BREAK_HYPHENS = ("-\n", "\u2010\n")


def normalize_unicode(text: str) -> str:
    """NFC (not NFKC: it would turn m² into m2), plus ligatures, invisible characters and odd spaces."""
    if not unicodedata.is_normalized("NFC", text):  # the check is a fast scan; most text is NFC already
        text = unicodedata.normalize("NFC", text)
    if any(ch in text for ch in _ODD_CHARS):  # str.find per character beats one regex scan
        text = _LIGATURE.sub(lambda m: _LIGATURES[m.group()], text)
        text = _SPACES.sub(" ", _INVISIBLE.sub("", text))
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _hyphen_breaks(text: str) -> list[int]:
    """Positions of the character before every hyphen + newline: the only places a hyphen break can start."""
    starts = []
    for mark in _LINE_BREAK_HYPHENS:
        i = text.find(mark, 1)
        while i != -1:
            starts.append(i - 1)
            i = text.find(mark, i + 2)
    return sorted(starts)


def _sub_at(pattern: re.Pattern[str], template: str, text: str, starts: list[int]) -> str:
    """`pattern.sub(template, text)` for a pattern that can only match at `starts` (sorted)."""
    parts: list[str] = []
    end = 0
    for start in starts:
        if start >= end and (match := pattern.match(text, start)):
            parts += (text[end:start], match.expand(template))
            end = match.end()
    return "".join(parts) + text[end:] if parts else text


def dehyphenate(text: str) -> str:
    """Join words split by a hyphen at a line break, as PDFs and wrapped text do."""
    if "-\n" not in text and "\u2010\n" not in text:
        return text
    text = _sub_at(_HYPHEN_BREAK, r"\1\2", text, _hyphen_breaks(text))
    return _sub_at(_HYPHEN_BREAK_UPPER, r"\1-\2", text, _hyphen_breaks(text))


def _join_lines(block: str) -> str:
    """Lines of one paragraph (stripped, none empty): wrapped lines joined with a space, list items kept."""
    if "\n" not in block:
        return block
    return "\n".join([part.replace("\n", " ") for part in _BEFORE_LIST_ITEM.split(block)])


def normalize_whitespace(text: str) -> str:
    """Paragraphs (blank lines) are kept; lines wrapped inside a paragraph are joined, lists stay lists."""
    if "  " in text:
        text = _MULTI_SPACE.sub(" ", text)
    stripped = "\n".join([line.strip() for line in text.split("\n")])  # blank lines are now empty
    blocks = (block.strip("\n") for block in _PARAGRAPH_BREAK.split(stripped))
    return "\n\n".join([_join_lines(block) for block in blocks if block])


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
