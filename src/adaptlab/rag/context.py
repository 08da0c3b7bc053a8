"""The context an answer is written from: retrieved chunks without near-duplicates, within a token budget.

Overlapping chunking, a file ingested twice under two names or the same paragraph in two laws put
near-identical chunks in one result list; each costs prompt tokens and splits the citations. A chunk
whose word 3-shingles overlap a better-ranked kept chunk's by `threshold` (Jaccard) is dropped. Chunks
are then taken in rank order while they fit the budget; one that does not fit is cut at a word boundary
when at least `min_tokens` are left, else dropped. The kept chunks are the answer's sources,
so citation [n] is always the n-th of them. Tokens are counted with the generator's tokenizer when it
has one, else estimated from words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from adaptlab.retrieval.dense import SearchHit

TokenCount = Callable[[str], int]
WORDS_TO_TOKENS = 1.4
"""Subword tokens per whitespace word: about 1.3 for English, more for German compounds."""
DEDUP_THRESHOLD = 0.8
SOURCE_OVERHEAD = 6
"""Tokens of a source's label in the prompt ("[3] heading" line and blank line)."""
_WORD = re.compile(r"\w+", re.UNICODE)


def word_estimate(text: str) -> int:
    """Tokens estimated from whitespace words (no tokenizer needed)."""
    return math.ceil(len(text.split()) * WORDS_TO_TOKENS)


def tokenizer_count(tokenizer: Any) -> TokenCount:
    """A Hugging Face tokenizer's exact count, without special tokens."""
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def counter_for(generator: Any) -> TokenCount:
    """The generator's own tokenizer when it exposes one (local LLMs), else the word estimate."""
    tokenizer = getattr(generator, "tokenizer", None)
    return tokenizer_count(tokenizer) if tokenizer is not None else word_estimate


@dataclass
class Context:
    """The sources in citation order (text possibly cut), their token count and what was left out and why."""

    sources: list[SearchHit]
    tokens: int
    budget: int | None
    dropped: list[dict[str, Any]] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tokens": self.tokens,
            "budget": self.budget,
            "sources": len(self.sources),
            "dropped": self.dropped,
            "cut": self.cut,
        }


def shingles(text: str, size: int = 3) -> frozenset[tuple[str, ...]]:
    words = _WORD.findall(text.casefold())
    if len(words) < size:
        return frozenset([tuple(words)])
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def jaccard(a: frozenset[Any], b: frozenset[Any]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def assemble_context(
    hits: Sequence[SearchHit],
    budget: int | None = None,
    count: TokenCount = word_estimate,
    threshold: float = DEDUP_THRESHOLD,
    min_tokens: int = 32,
) -> Context:
    """Near-duplicates dropped, then chunks in rank order until `budget` tokens (None: no limit)."""
    kept: list[SearchHit] = []
    kept_shingles: list[frozenset[tuple[str, ...]]] = []
    dropped: list[dict[str, Any]] = []
    cut: list[str] = []
    used = 0
    for hit in hits:
        mine = shingles(hit.text)
        twin = next(
            (n for n, other in enumerate(kept_shingles, 1) if jaccard(mine, other) >= threshold), None
        )
        if twin is not None:
            dropped.append({"chunk_id": hit.chunk_id, "reason": f"near-duplicate of [{twin}]"})
            continue
        cost = count(_as_prompted(hit)) + SOURCE_OVERHEAD
        if budget is not None and used + cost > budget:
            room = budget - used - SOURCE_OVERHEAD - count(hit.heading or hit.title)
            if room < min_tokens:
                dropped.append({"chunk_id": hit.chunk_id, "reason": "over the token budget"})
                continue
            hit = replace(hit, text=_cut_to(hit.text, room, count))
            cut.append(hit.chunk_id)
            cost = count(_as_prompted(hit)) + SOURCE_OVERHEAD
        kept.append(hit)
        kept_shingles.append(mine)
        used += cost
    return Context(kept, used, budget, dropped, cut)


def _as_prompted(hit: SearchHit) -> str:
    return f"{hit.heading or hit.title}\n{hit.text}"


def _cut_to(text: str, tokens: int, count: TokenCount) -> str:
    """The longest word prefix of `text` within `tokens` (binary search over the word count), with '…'."""
    words = text.split()
    low, high = 0, len(words)
    while low < high:
        middle = (low + high + 1) // 2
        if count(" ".join(words[:middle])) <= tokens - 1:
            low = middle
        else:
            high = middle - 1
    return " ".join(words[:low]) + " …"
