"""Sentence splitting that knows German legal and technical abbreviations (Abs., Nr., z. B., ggf., Mio.)."""

from __future__ import annotations

import re

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

# A candidate boundary: ., ! or ? (optionally closing quotes/brackets), whitespace, then a sentence start.
_BOUNDARY = re.compile(r"""([.!?…]["'”’»)\]]*)(\s+)(?=["'„“‚»(\[]?[A-ZÄÖÜ0-9§])""")
_INITIALS = re.compile(r"(?:[A-Za-zÄÖÜäöü]\.)+[A-Za-zÄÖÜäöü]?")
_SMALL_NUMBER = re.compile(r"\d{1,3}")


def _is_abbreviation(token: str) -> bool:
    word = token.rstrip(".").lstrip("(\"'„")
    if not word:
        return False
    if word.lower() in ABBREVIATIONS or word.rsplit(".", 1)[-1].lower() in ABBREVIATIONS:
        return True
    if _INITIALS.fullmatch(word):  # initials: z.B, i.V.m, U.S
        return True
    return bool(_SMALL_NUMBER.fullmatch(word))  # ordinals and enumerations: "1. Januar", "§ 3 Nr. 2."


def split_sentences(text: str) -> list[str]:
    """Split on sentence ends, not on abbreviations, ordinals or list numbers; newlines always split."""
    sentences: list[str] = []
    for line in text.split("\n"):
        start = 0
        for match in _BOUNDARY.finditer(line):
            end = match.end(1)
            if match.group(1).startswith("."):
                token = line[max(line.rfind(" ", start, end) + 1, start) : end]
                if token.strip() and _is_abbreviation(token.strip()[:-1] or "."):
                    continue
            piece = line[start:end].strip()
            if piece:
                sentences.append(piece)
            start = match.end()
        tail = line[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences
