"""Sentence splitting that knows German legal and technical abbreviations (Abs., Nr., z. B., ggf., Mio.)."""

from __future__ import annotations

import re
from functools import lru_cache

ABBREVIATIONS: frozenset[str] = frozenset(
    a.lower()
    for a in """
    Abs Nr Nrn Art Artt Ziff Buchst Anl Anh Bd Bek Bl Kap Tz Rn Rdnr lit Var Alt Hs
    ggf bzw vgl usw etc ca evtl sog inkl zzgl exkl gem bspw insb mind max min ggü lfd
    Mio Mrd Tsd Std Min Sek Jh Jhd Dr Prof Dipl Ing med jur rer nat St Str Tel Fax Hr Fr
    Jan Feb Mär Apr Jun Jul Aug Sep Sept Okt Nov Dez v d u o i a z s e g m B h T U V Z
    BGBl GVBl ABl Verf Aufl Hrsg Anm Fn bspw Einl Vorb Ges Verw ff f
    e.g i.e vs Mr Mrs Ms Jr Sr No Nos Fig Figs Eq Eqs Sec Vol pp al approx cf resp Corp Inc Ltd Co
    """.split()
)

# A candidate boundary: ., ! or ? (optionally closing quotes/brackets), spaces, then a sentence start.
# The spaces never include a newline, so the whole text is scanned at once and newlines split pieces after.
_BOUNDARY = re.compile(r"""([.!?…]["'”’»)\]]*)([^\S\n]+)(?=["'„“‚»(\[]?[A-ZÄÖÜ0-9§])""")
_SENTENCE_END_MARKS = ".!?…"
_INITIALS = re.compile(r"(?:[A-Za-zÄÖÜäöü]\.)+[A-Za-zÄÖÜäöü]?")
_SMALL_NUMBER = re.compile(r"\d{1,3}")


@lru_cache(maxsize=1 << 16)
def _is_abbreviation(token: str) -> bool:
    word = token.rstrip(".").lstrip("(\"'„")
    if not word:
        return False
    if word.lower() in ABBREVIATIONS or word.rsplit(".", 1)[-1].lower() in ABBREVIATIONS:
        return True
    if _INITIALS.fullmatch(word):  # initials: z.B, i.V.m, U.S
        return True
    return bool(_SMALL_NUMBER.fullmatch(word))  # ordinals and enumerations: "1. Januar", "§ 3 Nr. 2."


def _add_pieces(sentences: list[str], piece: str) -> None:
    """A stretch between two sentence boundaries, split at its newlines, stripped, empty parts left out."""
    if "\n" in piece:
        sentences.extend(part for line in piece.split("\n") if (part := line.strip()))
    elif piece := piece.strip():
        sentences.append(piece)


def _boundaries(text: str) -> list[re.Match[str]]:
    """`list(_BOUNDARY.finditer(text))`, faster: str.find locates the few places a boundary can start.

    (The engine scans for a character class, worse one with "…" in it, several times slower than str.find.)
    """
    starts = []
    for mark in _SENTENCE_END_MARKS:
        i = text.find(mark)
        while i != -1:
            starts.append(i)
            i = text.find(mark, i + 1)
    starts.sort()
    found = []
    end = 0
    for start in starts:
        if start >= end and (match := _BOUNDARY.match(text, start)):
            found.append(match)
            end = match.end()
    return found


def split_sentences(text: str) -> list[str]:
    """Split on sentence ends, not on abbreviations, ordinals or list numbers; newlines always split."""
    sentences: list[str] = []
    start = 0
    for match in _boundaries(text):
        end = match.end(1)
        if text[match.start()] == ".":
            line_start = max(start, text.rfind("\n", start, end) + 1)
            token = text[max(text.rfind(" ", line_start, end) + 1, line_start) : end].strip()
            if token and _is_abbreviation(token[:-1] or "."):
                continue
        _add_pieces(sentences, text[start:end])
        start = match.end()
    _add_pieces(sentences, text[start:])
    return sentences
