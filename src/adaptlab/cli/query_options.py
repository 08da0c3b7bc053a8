"""Options `search` and `rag` share for what happens to the question before retrieval."""

from __future__ import annotations

from typing import Annotated

import typer

SelfQueryOpt = Annotated[
    bool,
    typer.Option(
        "--self-query",
        help="Read filters from the question (law such as EnWG, MaStR technology, years, "
        "'English sources'); only fields the corpus carries, never one that would match nothing.",
    ),
]
ExpandOpt = Annotated[
    bool,
    typer.Option(
        "--expand",
        help="Add German compound parts and ontology DE/EN synonyms to the BM25 query "
        "(bm25 and hybrid modes); with an OpenAI-compatible generator, also LLM rewrites fused by RRF.",
    ),
]
