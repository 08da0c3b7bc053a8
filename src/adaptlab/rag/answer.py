"""What an answer is, and the extractive answer that needs no LLM.

Citations are the 1-based positions of the sources the answer was built from, so `[2]` always means
`sources[1]`, whichever generator wrote the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from adaptlab.corpus.sentences import split_sentences
from adaptlab.retrieval.analysis import analyze_query
from adaptlab.retrieval.dense import SearchHit

_CITATION = re.compile(r"\[(\d{1,3})\]")
EXTRACTIVE = "extractive"


@dataclass
class Answer:
    """The answer text, the sources its citations index into (1-based) and who wrote it."""

    question: str
    text: str
    sources: list[SearchHit]
    generator: str
    extractive: bool
    citations: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question, "answer": self.text, "generator": self.generator,
            "extractive": self.extractive, "citations": self.citations,
            "sources": [source_dict(i, h) for i, h in enumerate(self.sources, 1)],
        }


def source_dict(number: int, hit: SearchHit) -> dict[str, Any]:
    """A source as clients show it: its citation number first, then the hit."""
    return {"n": number, **hit.as_dict()}


def citations_in(text: str, n_sources: int) -> list[int]:
    """The distinct source numbers cited in `text`, in order of first use; out-of-range numbers dropped."""
    found = (int(m) for m in _CITATION.findall(text))
    return list(dict.fromkeys(n for n in found if 1 <= n <= n_sources))


def extractive_answer(question: str, hits: Sequence[SearchHit], max_sentences: int = 3) -> str:
    """The sentences of the top chunks that share the most terms with the question, each with its citation.

    Sentences are ranked by query-term overlap (ties: the better-ranked chunk first) and printed in that
    order, so the answer reads as the strongest evidence first. Sentences sharing no term are used only
    when no sentence shares one (cross-lingual hits): then the top chunk's opening sentences speak.
    """
    langs = {h.lang for h in hits if h.lang} or {"en"}
    terms = set(analyze_query(question, langs))
    scored: list[tuple[float, int, int, str]] = []
    for n, hit in enumerate(hits, 1):
        for position, sentence in enumerate(split_sentences(hit.text)):
            if len(sentence) < 20:
                continue
            overlap = len(terms & set(analyze_query(sentence, langs)))
            scored.append((-overlap, n, position, sentence))
    if not scored:
        return ""
    matching = [s for s in scored if s[0] < 0]
    best = sorted(matching or scored)[:max_sentences]
    return " ".join(f"{sentence} [{n}]" for _, n, _, sentence in best)
