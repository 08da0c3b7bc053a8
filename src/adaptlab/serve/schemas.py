"""Request and response bodies: the OpenAPI schema at /docs is generated from these."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from adaptlab.retrieval.rerank import DEFAULT_TOP_N
from adaptlab.serve.limits import MAX_EMBED_CHARS, MAX_EMBED_TEXTS, MAX_FILTER_CHARS, MAX_K, MAX_QUERY_CHARS

Mode = Literal["dense", "bm25", "hybrid"]
SESSION_HELP = ("User or session key for the A/B split (or the X-Session-Id header): the same key always gets "
                "the same variant; without one, the champion answers.")
SELF_QUERY_HELP = ("Read filters from the question itself (law such as EnWG, MaStR technology, years, 'English "
                   "sources'), only on fields the corpus carries and never one that would match nothing.")
EXPAND_HELP = "Add German compound parts and ontology DE/EN synonyms to the BM25 query (bm25 and hybrid modes)."
RERANK_HELP = ("Re-sort the top hits: auto (the newest trained cross-encoder, else bi-encoder rescoring), a "
               "registered reranker name, bi (cosine with the search's model) or bi:MODEL (a served model).")
RERANK_PATTERN = r"^[A-Za-z0-9_.:-]+$"
"""Names only: a request cannot make the server load a folder by path."""
EmbedText = Annotated[str, Field(min_length=1, max_length=MAX_EMBED_CHARS)]


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="What to look for, any language.")
    k: int = Field(10, ge=1, le=MAX_K, description="Number of hits.")
    mode: Mode = Field("dense", description="dense (vectors), bm25 (terms) or hybrid (both, RRF-fused).")
    filter: str | None = Field(None, max_length=MAX_FILTER_CHARS,
                               description='Milvus filter expression, e.g. lang == "de" and law == "EnWG".')
    model: str | None = Field(None, max_length=200, description="A served model (default: the first).")
    session: str | None = Field(None, max_length=200, description=SESSION_HELP)
    self_query: bool = Field(False, description=SELF_QUERY_HELP)
    expand: bool = Field(False, description=EXPAND_HELP)
    rerank: str | None = Field(None, max_length=200, pattern=RERANK_PATTERN, description=RERANK_HELP)
    rerank_top: int = Field(DEFAULT_TOP_N, ge=1, le=MAX_K, description="Hits re-scored by the reranker.")


class Hit(BaseModel):
    rank: int
    score: float
    chunk_id: str
    source: str
    section: str
    title: str
    page: int | None
    lang: str
    metadata: dict[str, Any]
    text: str


class SearchResponse(BaseModel):
    query: str
    mode: Mode
    model: str
    took_ms: float
    hits: list[Hit]
    variant: str | None = Field(None, description="The A/B arm that answered (champion, challenger), when serving by alias.")
    version: str | None = Field(None, description="Registry version of the model that answered.")
    request_id: str | None = Field(None, description="Name it in POST /feedback to rate or report a click.")


class EmbedRequest(BaseModel):
    texts: list[EmbedText] = Field(min_length=1, max_length=MAX_EMBED_TEXTS,
                             description=f"At most {MAX_EMBED_TEXTS} texts of at most {MAX_EMBED_CHARS} characters.")
    model: str | None = Field(None, max_length=200)


class EmbedResponse(BaseModel):
    model: str
    dim: int
    vectors: list[list[float]]


class RagRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(5, ge=1, le=20, description="Sources to answer from.")
    mode: Mode = "hybrid"
    filter: str | None = Field(None, max_length=MAX_FILTER_CHARS)
    model: str | None = Field(None, max_length=200)
    stream: bool = Field(False, description="Server-Sent Events: `sources`, then `token`s, then `done`.")
    session: str | None = Field(None, max_length=200, description=SESSION_HELP)
    self_query: bool = Field(False, description=SELF_QUERY_HELP)
    expand: bool = Field(False, description=EXPAND_HELP)
    rerank: str | None = Field(None, max_length=200, pattern=RERANK_PATTERN, description=RERANK_HELP)
    rerank_top: int = Field(DEFAULT_TOP_N, ge=1, le=MAX_K, description="Hits re-scored by the reranker.")
    context_tokens: int | None = Field(None, ge=64, le=32768, description=(
        "Token budget of the sources given to the generator; near-duplicate sources are always dropped."))


class Source(Hit):
    n: int = Field(description="The number the answer cites as [n].")


class RagResponse(BaseModel):
    question: str
    answer: str
    generator: str
    extractive: bool = Field(description="True when the answer is quoted sentences, not generated text.")
    citations: list[int]
    sources: list[Source]


class FeedbackRequest(BaseModel):
    request_id: str = Field(min_length=1, max_length=64, description="The `request_id` of the search it is about.")
    kind: Literal["click", "rating"]
    chunk_id: str | None = Field(None, max_length=200, description="The hit clicked or rated.")
    rank: int | None = Field(None, ge=1, le=MAX_K, description="Its rank in the results.")
    rating: float | None = Field(None, ge=1, le=5, description="1 (useless) to 5 (exactly right); needed for a rating.")
    session: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _rating_given(self) -> FeedbackRequest:
        if self.kind == "rating" and self.rating is None:
            raise ValueError("a rating needs a `rating` from 1 to 5")
        return self


class FeedbackResponse(BaseModel):
    accepted: bool
    variant: str | None


class SkippedFile(BaseModel):
    file: str
    reason: str


class DocumentsResponse(BaseModel):
    saved: list[str]
    ingest: dict[str, Any]
    skipped: list[SkippedFile]
    embedded: list[dict[str, Any]]


def hit_fields(hit: dict[str, Any]) -> dict[str, Any]:
    """A SearchHit dict in the API's terms (`heading` is called `section` here)."""
    data = dict(hit)
    data["section"] = data.pop("heading")
    return data
