"""The Feast objects: entities `document` and `chunk`, and the feature views over the exported Parquet.

Built by a function (not at import) because the sources point into one workspace's feature repo, and
because importing Feast costs seconds that commands without features should not pay.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from adaptlab.features.export import CHUNKS_FILE, EMBEDDINGS_FILE, POPULARITY_FILE

CHUNK_VIEW, POPULARITY_VIEW, EMBEDDING_VIEW = "chunk_metadata", "document_popularity", "chunk_embedding"
VIEW_FILES = {CHUNK_VIEW: CHUNKS_FILE, POPULARITY_VIEW: POPULARITY_FILE, EMBEDDING_VIEW: EMBEDDINGS_FILE}
CHUNK_FEATURES = ("doc_id", "lang", "source", "title", "heading", "n_words", "law")
POPULARITY_FEATURES = ("clicks", "ratings", "mean_rating", "popularity")
POPULARITY_REFS = [f"{POPULARITY_VIEW}:{f}" for f in POPULARITY_FEATURES]
FEATURE_REFS = [f"{CHUNK_VIEW}:{f}" for f in CHUNK_FEATURES] + POPULARITY_REFS
EMBEDDING_FEATURES = ("model", "embedding")
EMBEDDING_REFS = [f"{EMBEDDING_VIEW}:{f}" for f in EMBEDDING_FEATURES]


def definitions(data_dir: Path) -> list[Any]:
    """Entities and feature views for `feast apply`; ttl 0: a feature never expires (the corpus is versioned
    by content hash, popularity is a running total)."""
    from feast import Entity, FeatureView, Field, FileSource, ValueType
    from feast.types import Array, Float32, Float64, Int64, String

    document = Entity(
        name="document",
        join_keys=["doc_id"],
        value_type=ValueType.STRING,
        description="An ingested document (content-hash id).",
    )
    chunk = Entity(
        name="chunk",
        join_keys=["chunk_id"],
        value_type=ValueType.STRING,
        description="A chunk of a document: the unit search returns.",
    )
    chunk_source = FileSource(
        name="chunk_metadata_parquet", path=str(data_dir / CHUNKS_FILE), timestamp_field="event_timestamp"
    )
    popularity_source = FileSource(
        name="document_popularity_parquet",
        path=str(data_dir / POPULARITY_FILE),
        timestamp_field="event_timestamp",
    )
    chunk_view = FeatureView(
        name=CHUNK_VIEW,
        entities=[chunk],
        ttl=timedelta(0),
        schema=[
            Field(name="doc_id", dtype=String),
            Field(name="lang", dtype=String),
            Field(name="source", dtype=String),
            Field(name="title", dtype=String),
            Field(name="heading", dtype=String),
            Field(name="n_words", dtype=Int64),
            Field(name="law", dtype=String),
        ],
        source=chunk_source,
        online=True,
        description="Chunk metadata from the corpus store.",
    )
    popularity_view = FeatureView(
        name=POPULARITY_VIEW,
        entities=[document],
        ttl=timedelta(0),
        schema=[
            Field(name="clicks", dtype=Int64),
            Field(name="ratings", dtype=Int64),
            Field(name="mean_rating", dtype=Float64),
            Field(name="popularity", dtype=Float64),
        ],
        source=popularity_source,
        online=True,
        description="Clicks and ratings from /feedback; popularity = ln(1 + clicks).",
    )
    embedding_source = FileSource(
        name="chunk_embedding_parquet",
        path=str(data_dir / EMBEDDINGS_FILE),
        timestamp_field="event_timestamp",
    )
    embedding_view = FeatureView(
        name=EMBEDDING_VIEW,
        entities=[chunk],
        ttl=timedelta(0),
        schema=[Field(name="model", dtype=String), Field(name="embedding", dtype=Array(Float32))],
        source=embedding_source,
        online=True,
        description="The chunk's vector in one model's Milvus collection (the config's first model by default).",
    )
    return [document, chunk, chunk_view, popularity_view, embedding_view]
