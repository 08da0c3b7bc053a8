"""German compound splitting (Koehn & Knight 2003) on the corpus' own vocabulary: no lexicon, no download.

German glues nouns together, so a heading that says "Anlage" and a section that says "Windenergieanlage"
share no word, and BM25 cannot match them. A word is split where every part is a word of the corpus (German
linking elements -s-, -es- allowed) and the parts are more frequent than the whole (geometric mean of document
frequencies). BM25 indexes the parts' stems beside the whole word (`compound_stems`), in documents and in
queries, and query expansion adds them to a query (`expansion.QueryExpander`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

import numpy as np

from adaptlab.retrieval.analysis import _stemmer

LINKING = ("", "s", "es")
"""German linking elements (Fugenelemente) cut from a compound's first part: Betrieb|s|status. The plural-like
-n-/-en- stay on the part (Anlagen|betreiber): the stemmer removes them anyway, and the part stays a word."""
_WORD = re.compile(r"[^\W\d_]+")


class CompoundSplitter:
    """Splits German compounds into parts the corpus knows, by document frequency of their stems."""

    def __init__(
        self, frequencies: Mapping[str, int], min_part: int = 4, min_word: int = 8, max_parts: int = 4
    ) -> None:
        self.frequencies = frequencies
        self.min_part = min_part
        self.min_word = min_word
        self.max_parts = max_parts
        self._stem = _stemmer("de")
        self._memo: dict[tuple[str, int], tuple[float, list[str]] | None] = {}
        self._frequency: dict[str, int] = {}

    @classmethod
    def from_bm25(cls, vocab: Mapping[str, int], indptr: np.ndarray) -> CompoundSplitter:
        """From a bm25s index: its vocabulary (stem → column) and the CSC column pointers (→ document counts)."""
        counts = np.diff(np.asarray(indptr))
        return cls({term: int(counts[col]) for term, col in vocab.items() if term and col < len(counts)})

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CompoundSplitter:
        """Document frequencies of the German stems of `texts` (for sets without a bm25s index)."""
        stem = _stemmer("de")
        frequencies: dict[str, int] = {}
        for text in texts:
            for term in set(stem.stemWords(_WORD.findall(text.casefold()))):
                frequencies[term] = frequencies.get(term, 0) + 1
        return cls(frequencies)

    def frequency(self, part: str) -> int:
        found = self._frequency.get(part)
        if found is None:
            found = self._frequency[part] = (self.frequencies.get(self._stem.stemWord(part), 0)
                                             or self.frequencies.get(part, 0))
        return found

    def split(self, word: str) -> list[str]:
        """The parts of `word` (lower-cased), or `[word]` when no split beats keeping it whole."""
        lowered = word.casefold()
        if len(lowered) < self.min_word:
            return [lowered]
        best = self._best(lowered, self.max_parts)
        whole = self.frequency(lowered)
        if best is None or len(best[1]) < 2 or best[0] <= whole:
            return [lowered]
        return best[1]

    def _best(self, word: str, parts_left: int) -> tuple[float, list[str]] | None:
        """(geometric mean of the parts' frequencies, parts) of the best split of `word`, or None."""
        key = (word, parts_left)
        if key not in self._memo:
            self._memo[key] = self._search(word, parts_left)
        return self._memo[key]

    def _search(self, word: str, parts_left: int) -> tuple[float, list[str]] | None:
        candidates: list[tuple[float, list[str]]] = []
        whole = self.frequency(word)
        if whole and len(word) >= self.min_part:
            candidates.append((float(whole), [word]))
        if parts_left > 1:
            for cut in range(self.min_part, len(word) - self.min_part + 1):
                head = word[:cut]
                heads = [(stem, freq) for link in LINKING
                         if head.endswith(link) and len(stem := head[: len(head) - len(link)]) >= self.min_part
                         and (freq := self.frequency(stem))]
                if not heads:  # most cuts: no known word before them, so the tail need not be searched
                    continue
                rest = self._best(word[cut:], parts_left - 1)
                if rest is None:
                    continue
                for stem, freq in heads:
                    parts = [stem, *rest[1]]
                    score = math.exp((math.log(freq) + math.log(rest[0]) * len(rest[1])) / len(parts))
                    candidates.append((score, parts))
        return max(candidates, key=lambda c: (c[0], -len(c[1]), -len("".join(c[1])))) if candidates else None


def compound_stems(text: str, splitter: CompoundSplitter, memo: dict[str, tuple[str, ...]]) -> list[str]:
    """The German stems of the parts of every compound in `text`, once per occurrence (term frequency counts).

    `memo` (word → its parts' stems) is shared across texts: a corpus repeats its compounds.
    """
    found: list[str] = []
    stem = splitter._stem
    for word in _WORD.findall(text.casefold()):
        if len(word) < splitter.min_word:
            continue
        parts = memo.get(word)
        if parts is None:
            split = splitter.split(word)
            parts = memo[word] = tuple(stem.stemWords(split)) if len(split) > 1 else ()
        found.extend(parts)
    return found
