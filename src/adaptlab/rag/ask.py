"""Retrieval-augmented answers over the workspace: search, then let a generator answer from the hits."""

from __future__ import annotations

from collections.abc import Sequence

from adaptlab.pipeline import Session, search
from adaptlab.rag.answer import Answer, citations_in
from adaptlab.rag.context import assemble_context, counter_for
from adaptlab.rag.generators import Generator
from adaptlab.retrieval.dense import SearchHit
from adaptlab.retrieval.rerank import DEFAULT_TOP_N

NO_SOURCES = "No passage in the corpus matches the question (check the filter, or ingest more documents)."


def make_answer(question: str, text: str, sources: Sequence[SearchHit], generator: Generator) -> Answer:
    """The finished answer; its citations are the source numbers the text actually uses."""
    text = text.strip() or NO_SOURCES
    return Answer(question, text, list(sources), generator.name, generator.extractive,
                  citations_in(text, len(sources)))


def ask(
    session: Session, question: str, generator: Generator, k: int = 5, mode: str = "hybrid",
    filter: str | None = None, model: str = "minilm", self_query: bool = False, expand: bool = False,
    context_tokens: int | None = None, rerank: str | None = None, rerank_top: int = DEFAULT_TOP_N,
) -> Answer:
    """Top-`k` chunks for the question (`mode`, `self_query`, `expand` as in search), near-duplicates dropped
    and cut to `context_tokens` (None: no budget), answered by `generator` with citations; `rerank` re-sorts the
    first `rerank_top` hits before the context is built."""
    llm = generator if getattr(generator, "plans_queries", False) else None  # endpoint LLMs, not 135M local ones
    hits = search(session, model, [question], k, filter, mode, self_query, expand, llm, rerank, rerank_top)[0]
    sources = assemble_context(hits, context_tokens, counter_for(generator)).sources
    text = "".join(generator.stream(question, sources)) if sources else NO_SOURCES
    return make_answer(question, text, sources, generator)
