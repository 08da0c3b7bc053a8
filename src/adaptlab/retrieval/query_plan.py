"""What a question becomes before retrieval: self-query filters, the expanded BM25 query, LLM rewrites.

`plan_query` is pure (facets and expander in, plan out); `planned_search` runs plans over a workspace
session with the same retrievers `pipeline.search` uses. The corpus-derived parts (facets, the compound
splitter's vocabulary) are cached per corpus fingerprint, so they are rebuilt only after an ingest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adaptlab.retrieval.dense import SearchHit
from adaptlab.retrieval.compounds import CompoundSplitter
from adaptlab.retrieval.expansion import (
    Expansion,
    QueryExpander,
    default_synonyms,
    fuse_hits,
    multi_query,
)
from adaptlab.retrieval.self_query import Completer, Facets, SelfQuery, llm_self_query, self_query

if TYPE_CHECKING:
    from adaptlab.pipeline import Session


@dataclass
class QueryTools:
    """A corpus' facets (for self-query) and lexical expander, optionally with an LLM."""

    facets: Facets
    expander: QueryExpander
    llm: Completer | None = None


@dataclass
class QueryPlan:
    """The dense query, the BM25 query, the filter, and LLM rewrites searched alongside (RRF-fused)."""

    question: str
    query: str
    lexical_query: str
    filter: str | None
    self_query: SelfQuery | None = None
    expansion: Expansion | None = None
    rewrites: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "lexical_query": self.lexical_query,
            "filter": self.filter,
            "self_query": self.self_query.as_dict() if self.self_query else None,
            "expansion": self.expansion.as_dict() if self.expansion else None,
            "rewrites": self.rewrites,
        }


def plan_query(
    question: str,
    tools: QueryTools,
    filter: str | None = None,
    use_self_query: bool = False,
    expand: bool = False,
) -> QueryPlan:
    """Self-query first (it may shorten the question), then expansion of what is left."""
    found = None
    query = question
    if use_self_query:
        found = (
            llm_self_query(question, tools.facets, tools.llm, filter)
            if tools.llm
            else self_query(question, tools.facets, filter)
        )
        query, filter = found.query, found.filter
    expansion = tools.expander.expand(query) if expand else None
    rewrites = multi_query(tools.llm, query) if expand and tools.llm else []
    if expansion is not None:
        expansion.rewrites = rewrites
    return QueryPlan(
        question, query, expansion.lexical_query if expansion else query, filter, found, expansion, rewrites
    )


_TOOLS: dict[tuple[str, str], tuple[Facets, CompoundSplitter]] = {}


def session_tools(session: Session, llm: Completer | None = None) -> QueryTools:
    """Facets and expander of the session's corpus, built once per corpus state."""
    bm25 = session.bm25
    index = bm25.index()
    key = (str(bm25.folder), bm25._fingerprint)
    if key not in _TOOLS:
        facets = Facets.from_store(session.store.conn)
        splitter = index.splitter or CompoundSplitter.from_bm25(index.model.vocab_dict, index.model.scores["indptr"])
        _TOOLS.clear()  # one corpus state at a time: an old fingerprint is never asked for again
        _TOOLS[key] = (facets, splitter)
    facets, splitter = _TOOLS[key]
    return QueryTools(facets, QueryExpander(splitter, default_synonyms()), llm)


def planned_search(
    session: Session,
    model: str,
    queries: Sequence[str],
    k: int,
    filter: str | None,
    mode: str,
    use_self_query: bool,
    expand: bool,
    llm: Completer | None = None,
) -> tuple[list[list[SearchHit]], list[QueryPlan]]:
    """Each query planned and searched (its rewrites too, fused by RRF); hits and plans, in query order."""
    tools = session_tools(session, llm)
    plans = [plan_query(q, tools, filter, use_self_query, expand) for q in queries]
    results = []
    for plan in plans:
        rankings = [_run(session, model, plan.query, plan.lexical_query, k, plan.filter, mode)]
        rankings += [
            _run(session, model, r, tools.expander.expand(r).lexical_query, k, plan.filter, mode)
            for r in plan.rewrites
        ]
        results.append(fuse_hits(rankings, k) if len(rankings) > 1 else rankings[0])
    return results, plans


def _run(
    session: Session, model: str, query: str, lexical: str, k: int, filter: str | None, mode: str
) -> list[SearchHit]:
    from adaptlab.pipeline import search

    if mode == "bm25":
        return session.bm25.search_many([lexical], k, filter)[0]
    if mode == "dense":
        return search(session, model, [query], k, filter, "dense")[0]
    return session.hybrid_retriever(model).search_many([query], k, filter, lexical_queries=[lexical])[0]
