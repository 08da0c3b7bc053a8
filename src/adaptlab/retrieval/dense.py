"""Dense search: embed the query with the model's query role, search its collection, join the corpus."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from adaptlab.corpus.store import ChunkRecord, CorpusStore
from adaptlab.models.base import Embedder
from adaptlab.vectors.milvus_store import IndexConfig, MilvusVectorStore


@dataclass
class SearchHit:
    """One ranked chunk with what a user needs to judge it: score, source, section and text."""

    rank: int
    score: float
    chunk_id: str
    text: str
    heading: str
    title: str
    source: str
    page: int | None
    lang: str
    metadata: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, rank: int, score: float, rec: ChunkRecord) -> SearchHit:
        return cls(rank, score, rec.chunk_id, rec.text, rec.heading, rec.title, rec.source, rec.page, rec.lang,
                   rec.doc_metadata)


class DenseRetriever:
    """Query → top-k chunks, with an optional Milvus filter expression (e.g. `lang == "de"`)."""

    def __init__(
        self, store: CorpusStore, vectors: MilvusVectorStore, embedder: Embedder, collection: str, index: IndexConfig
    ) -> None:
        self.store = store
        self.vectors = vectors
        self.embedder = embedder
        self.collection = collection
        self.index = index

    def search_many(self, queries: list[str], k: int = 10, filter: str | None = None) -> list[list[SearchHit]]:
        qvecs = self.embedder.encode_queries(queries)
        results = self.vectors.search(self.collection, qvecs, k, self.index, filter=filter, output_fields=["id"])
        records = self.store.chunks_by_ids({h.id for hits in results for h in hits})
        ranked: list[list[SearchHit]] = []
        for hits in results:
            out = []
            for hit in hits:
                rec = records.get(hit.id)
                if rec is None:  # a vector whose chunk was replaced since; the next embed removes it
                    continue
                out.append(SearchHit.from_record(len(out) + 1, hit.score, rec))
            ranked.append(out)
        return ranked

    def search(self, query: str, k: int = 10, filter: str | None = None) -> list[SearchHit]:
        return self.search_many([query], k, filter)[0]
