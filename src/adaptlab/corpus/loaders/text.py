"""Plain text: decoding bytes the way users' files actually come (UTF-8, BOMs, old Windows exports).

The decoding helpers live here because every text-based loader (Markdown, HTML, JSON, CSV,
ontologies) needs the same rules and the same one-line errors.
"""

from __future__ import annotations

import codecs
import unicodedata
from pathlib import Path

from adaptlab.corpus.loaders.base import LoaderOptions, LoadError
from adaptlab.corpus.types import Document, Section

BINARY_SNIFF_BYTES = 8192
TITLE_MAX_CHARS = 80
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_ALLOWED_CONTROLS = frozenset("\t\n\r\f")


def looks_binary(head: bytes) -> bool:
    """NUL bytes never occur in 8-bit or UTF-8 text; UTF-16 text is recognised by its BOM."""
    return b"\x00" in head[:BINARY_SNIFF_BYTES] and not head.startswith(_UTF16_BOMS)


def _has_control_chars(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS for ch in text)


def decode_bytes(data: bytes, *, allow_cp1252: bool = False, fallback: str | None = None) -> str:
    """Decode as UTF-8 (BOM tolerated) or BOM-marked UTF-16, then an optional fallback encoding.

    cp1252 (`allow_cp1252`) is accepted only when the result has no control characters, because
    cp1252 decodes almost any byte soup. `fallback` is an encoding the file itself declared.
    """
    if looks_binary(data):
        raise LoadError("binary file, not text")
    if data.startswith(_UTF16_BOMS):
        return _decode_strict(data, "utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        utf8_error = err
    for encoding in ([fallback] if fallback else []) + (["cp1252"] if allow_cp1252 else []):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if not _has_control_chars(text):
            return text
    bad = data[utf8_error.start : utf8_error.start + 1].hex()
    raise LoadError(f"not UTF-8 text (invalid byte 0x{bad} at offset {utf8_error.start}); save it as UTF-8")


def _decode_strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise LoadError(f"not valid {encoding.upper()} text (bad bytes at offset {err.start})") from None


def read_text(path: Path, *, allow_cp1252: bool = False) -> str:
    """The whole file as text, or a LoadError saying why its bytes are not text."""
    return decode_bytes(path.read_bytes(), allow_cp1252=allow_cp1252)


def short_title(text: str, fallback: str) -> str:
    """The first non-empty line, cut at a word boundary, as a human-readable title."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        return fallback
    if len(first) <= TITLE_MAX_CHARS:
        return first
    cut = first[:TITLE_MAX_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + " …"


def load_text(path: Path, options: LoaderOptions) -> list[Document]:
    """A .txt file is one document with one section; cleaning happens later."""
    text = read_text(path, allow_cp1252=True)
    if not text.strip():
        raise LoadError("empty file")
    return [
        Document(
            source=str(path),
            key="",
            title=short_title(text, path.stem),
            sections=[Section(text=text)],
            metadata={"format": "txt"},
        )
    ]
