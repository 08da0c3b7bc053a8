"""Retrieval-augmented answers over the workspace: search, then let a generator answer from the hits."""

from __future__ import annotations

from collections.abc import Sequence

from adaptlab.pipeline import Session, search
from adaptlab.rag.answer import Answer, citations_in
from adaptlab.rag.generators import Generator
from adaptlab.retrieval.dense import SearchHit

NO_SOURCES = "No passage in the corpus matches the question (check the filter, or ingest more documents)."


def make_answer(question: str, text: str, sources: Sequence[SearchHit], generator: Generator) -> Answer:
    """The finished answer; its citations are the source numbers the text actually uses."""
    text = text.strip() or NO_SOURCES
    return Answer(question, text, list(sources), generator.name, generator.extractive,
                  citations_in(text, len(sources)))


def ask(
    session: Session, question: str, generator: Generator, k: int = 5, mode: str = "hybrid",
    filter: str | None = None, model: str = "minilm",
) -> Answer:
    """Top-`k` chunks for the question (`mode` as in search), answered by `generator` with citations."""
    sources = search(session, model, [question], k, filter, mode)[0]
    text = "".join(generator.stream(question, sources)) if sources else NO_SOURCES
    return make_answer(question, text, sources, generator)
