"""Keep evaluation documents out of training pairs mined from the same corpus.

A user ingests everything, then asks "is the adapted model better?" on a held-out set drawn from the
same documents. Pairs mined from those documents would train on the test answers. A pair is dropped
when its positive and an evaluation document are mostly the same text: at least half of the
positive's 13-word windows occur in evaluation documents, or at least half of one evaluation
document's windows occur in the positive (a short document inside a longer chunk). Texts shorter than
a window are compared as whole-word substrings. Matching words, not ids, catches the same text however
it was chunked or loaded; a shared boilerplate phrase ("durch Rechtsverordnung mit Zustimmung des
Bundesrates …") is not enough.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from adaptlab.train.pairs import Pair

WINDOW = 13
SHARE = 0.5
MIN_INSIDE = 4
"""A short evaluation document counts as "inside" a text only from this many words: "(weggefallen)" is not a leak."""
_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _windows(words: Sequence[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + WINDOW]) for i in range(len(words) - WINDOW + 1)}


class LeakGuard:
    """Built once from the evaluation documents; `overlaps(text)` says whether a text is one of them."""

    def __init__(self, documents: Iterable[str]) -> None:
        self._owners: dict[tuple[str, ...], list[int]] = {}  # window → documents that contain it
        self._sizes: list[int] = []  # windows per document
        self._short: list[str] = []  # documents without a full window, as padded word strings
        joined: list[str] = []
        for text in documents:
            words = _words(text)
            windows = _windows(words)
            for window in windows:
                self._owners.setdefault(window, []).append(len(self._sizes))
            self._sizes.append(len(windows))
            joined.append(" ".join(words))
            if MIN_INSIDE <= len(words) < WINDOW:
                self._short.append(f" {' '.join(words)} ")
        self._all = " " + " \n ".join(joined) + " "  # spaces around every word: whole-word matches

    def overlaps(self, text: str) -> bool:
        words = _words(text)
        if not words:
            return False
        padded = f" {' '.join(words)} "
        if any(short in padded for short in self._short):  # a short evaluation document inside the text
            return True
        if len(words) < WINDOW:
            return padded in self._all
        windows = _windows(words)
        per_document: Counter[int] = Counter()
        shared = 0
        for window in windows:
            owners = self._owners.get(window)
            if owners:
                shared += 1
                per_document.update(owners)
        if shared >= SHARE * len(windows):
            return True
        return any(count >= SHARE * self._sizes[doc] for doc, count in per_document.items())


def drop_leaking_pairs(pairs: Sequence[Pair], documents: Iterable[str]) -> tuple[list[Pair], int]:
    """(pairs whose positive is not evaluation text, how many were dropped)."""
    guard = LeakGuard(documents)
    kept = [p for p in pairs if not guard.overlaps(p.positive)]
    return kept, len(pairs) - len(kept)
