"""Dense search: embed the query with the model's query role, search its collection, join the corpus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adaptlab.corpus.store import ChunkRecord, CorpusStore
from adaptlab.models.base import Embedder, l2_normalize
from adaptlab.vectors.milvus_store import IndexConfig, MilvusVectorStore
from adaptlab.vectors.replica import VectorReplica


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
        """The fields as a dict (by hand: `dataclasses.asdict` deep-copies, ~5 % of a search's CPU)."""
        return {
            "rank": self.rank, "score": self.score, "chunk_id": self.chunk_id, "text": self.text,
            "heading": self.heading, "title": self.title, "source": self.source, "page": self.page,
            "lang": self.lang, "metadata": dict(self.metadata),
        }

    @classmethod
    def from_record(cls, rank: int, score: float, rec: ChunkRecord) -> SearchHit:
        return cls(
            rank,
            score,
            rec.chunk_id,
            rec.text,
            rec.heading,
            rec.title,
            rec.source,
            rec.page,
            rec.lang,
            rec.doc_metadata,
        )


class DenseRetriever:
    """Query → top-k chunks, with an optional Milvus filter expression (e.g. `lang == "de"`).

    `replica` gives the in-process copy of the collection (search.in_memory) that unfiltered searches
    of a COSINE or IP collection use instead of a Milvus round trip."""

    def __init__(
        self,
        store: CorpusStore,
        vectors: MilvusVectorStore,
        embedder: Embedder,
        collection: str,
        index: IndexConfig,
        replica: Callable[[], VectorReplica] | None = None,
    ) -> None:
        self.store = store
        self.vectors = vectors
        self.embedder = embedder
        self.collection = collection
        self.index = index
        self.replica = replica

    def rank_many(self, queries: list[str], k: int = 10, filter: str | None = None) -> list[list[tuple[str, float]]]:
        """(chunk id, score) per query, best first, without reading the chunks: fusion reads only its top-k."""
        qvecs = self.embedder.encode_queries(queries)
        if self.replica is not None and not filter and self.index.metric in ("COSINE", "IP"):
            return self.replica().search(l2_normalize(qvecs) if self.index.metric == "COSINE" else qvecs, k)
        results = self.vectors.search(self.collection, qvecs, k, self.index, filter=filter, output_fields=["id"])
        return [[(h.id, h.score) for h in hits] for hits in results]

    def search_many(self, queries: list[str], k: int = 10, filter: str | None = None) -> list[list[SearchHit]]:
        return hydrate(self.store, self.rank_many(queries, k, filter))

    def search(self, query: str, k: int = 10, filter: str | None = None) -> list[SearchHit]:
        return self.search_many([query], k, filter)[0]


def hydrate(store: CorpusStore, rankings: list[list[tuple[str, float]]]) -> list[list[SearchHit]]:
    """Search hits for (chunk id, score) rankings, read in one store call; a chunk replaced since the ranking
    was made (its vector not yet removed by the next embed) is skipped."""
    records = store.chunks_by_ids({cid for ranking in rankings for cid, _ in ranking})
    ranked: list[list[SearchHit]] = []
    for ranking in rankings:
        found = [(records[cid], score) for cid, score in ranking if cid in records]
        ranked.append([SearchHit.from_record(rank, score, rec) for rank, (rec, score) in enumerate(found, 1)])
    return ranked
