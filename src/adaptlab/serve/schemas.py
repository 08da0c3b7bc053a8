"""Request and response bodies: the OpenAPI schema at /docs is generated from these."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from adaptlab.serve.limits import MAX_EMBED_CHARS, MAX_EMBED_TEXTS, MAX_FILTER_CHARS, MAX_K, MAX_QUERY_CHARS

Mode = Literal["dense", "bm25", "hybrid"]
EmbedText = Annotated[str, Field(min_length=1, max_length=MAX_EMBED_CHARS)]


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="What to look for, any language.")
    k: int = Field(10, ge=1, le=MAX_K, description="Number of hits.")
    mode: Mode = Field("dense", description="dense (vectors), bm25 (terms) or hybrid (both, RRF-fused).")
    filter: str | None = Field(None, max_length=MAX_FILTER_CHARS,
                               description='Milvus filter expression, e.g. lang == "de" and law == "EnWG".')
    model: str | None = Field(None, max_length=200, description="A served model (default: the first).")


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


class Source(Hit):
    n: int = Field(description="The number the answer cites as [n].")


class RagResponse(BaseModel):
    question: str
    answer: str
    generator: str
    extractive: bool = Field(description="True when the answer is quoted sentences, not generated text.")
    citations: list[int]
    sources: list[Source]


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
