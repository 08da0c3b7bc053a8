"""Cutting documents into chunks: by words or by the model's tokens, on sentence boundaries.

Both chunkers pack whole sentences until the budget is reached, carry a small overlap into the
next chunk, and split a single over-long sentence by words. The token chunker measures with the
embedding model's own tokenizer, so no chunk is silently truncated by `max_seq_length`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from adaptlab.corpus.sentences import split_sentences
from adaptlab.corpus.types import Chunk, Document

LengthFn = Callable[[Sequence[str]], list[int]]
# Whitespace other than a space or a newline: inside a sentence it is kept, so the fast path must not fold it.
_UNUSUAL_SPACE = re.compile(r"[^\S \n]")


@dataclass(frozen=True)
class ChunkingConfig:
    """`unit='words'`: size/overlap in words (seed default 500/20). `unit='tokens'`: in model tokens."""

    unit: Literal["words", "tokens"] = "words"
    size: int = 500
    overlap: int = 20
    model: str | None = None  # the tokenizer's model when unit == "tokens"

    def fingerprint(self) -> str:
        """Changes when re-chunking is needed."""
        return f"{self.unit}:{self.size}:{self.overlap}:{self.model or ''}"


def count_words(texts: Sequence[str]) -> list[int]:
    return [len(t.split()) for t in texts]


class SentencePacker:
    """Packs sentences into pieces of at most `budget` units measured by `length`."""

    def __init__(self, budget: int, overlap: int, length: LengthFn = count_words) -> None:
        if budget <= 0:
            raise ValueError("chunk size must be positive")
        self.budget = budget
        self.overlap = min(overlap, budget // 2)
        self.length = length

    def _split_long(self, sentence: str, size: int) -> list[tuple[str, int]]:
        """A sentence over budget is cut by words, each piece measured again."""
        words = sentence.split()
        step = max(1, len(words))
        while step > 1:
            candidates = [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
            sizes = self.length(candidates)
            if max(sizes) <= size:
                return list(zip(candidates, sizes))
            step = max(1, int(step * size / max(sizes) * 0.9))
        return [(w, n) for w, n in zip(words, self.length(words))]

    def pack(self, text: str) -> list[str]:
        return [piece for piece, _ in self.pack_measured(text)]

    def pack_measured(self, text: str) -> list[tuple[str, int]]:
        """Pieces with their size in the packer's unit (the sum of their sentences' sizes: a piece joins
        sentences with single spaces, so with word counts this is exactly `len(piece.split())`)."""
        if self.length is count_words:
            words = text.split()
            if len(words) <= self.budget and not _UNUSUAL_SPACE.search(text):
                # Fits whole: sentences joined with " " are then just the words joined with " ".
                return [(" ".join(words), len(words))] if words else []
        sentences = split_sentences(text)
        if not sentences:
            return []
        units: list[tuple[str, int]] = []
        for sentence, n in zip(sentences, self.length(sentences)):
            units.extend(self._split_long(sentence, self.budget) if n > self.budget else [(sentence, n)])
        chunks: list[tuple[str, int]] = []
        current: list[tuple[str, int]] = []
        total = 0
        for sentence, n in units:
            if current and total + n > self.budget:
                chunks.append((" ".join(s for s, _ in current), total))
                current = self._overlap_tail(current, n)
                total = sum(k for _, k in current)
            current.append((sentence, n))
            total += n
        if current:
            chunks.append((" ".join(s for s, _ in current), total))
        return chunks

    def _overlap_tail(self, current: list[tuple[str, int]], next_size: int) -> list[tuple[str, int]]:
        """Trailing whole sentences that fit the overlap (and leave room for the next sentence)."""
        tail: list[tuple[str, int]] = []
        room = min(self.overlap, self.budget - next_size)
        for sentence, n in reversed(current):
            if n > room:
                break
            tail.insert(0, (sentence, n))
            room -= n
        return tail


class Chunker:
    """Turns a Document into Chunks with its section heading as context."""

    def __init__(self, config: ChunkingConfig, token_length: LengthFn | None = None) -> None:
        if config.unit == "tokens" and token_length is None:
            raise ValueError("token chunking needs the model's tokenizer (token_length)")
        self.config = config
        self.length = token_length if config.unit == "tokens" else count_words

    def chunk(self, doc: Document) -> list[Chunk]:
        chunks: list[Chunk] = []
        doc_id = doc.doc_id  # a hash: computed once, not per chunk
        words = self.length is count_words
        for section in doc.sections:
            heading = section.heading or doc.title
            budget = self.config.size
            if self.config.unit == "tokens" and heading:
                # the heading is embedded with every chunk, so it spends part of the model's budget
                budget -= self.length([heading])[0]
            budget = max(budget, self.config.size // 4)
            packer = SentencePacker(budget, self.config.overlap, self.length)
            for piece, size in packer.pack_measured(section.text):
                n_words = size if words else None
                chunks.append(
                    Chunk(doc_id, len(chunks), piece, heading=heading, page=section.page, n_words=n_words)
                )
        return chunks
