"""Milvus through one class: a Milvus Lite folder by default, a server or cluster by URI.

Primary keys are the chunks' content-hash ids and writes are upserts, so writing the same chunk twice
never makes a duplicate: what makes `embed` safe to kill and resume.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adaptlab.errors import AdaptlabError

ID_MAX = 64
TEXT_FIELDS = {"lang": 16, "source": 1024, "doc_id": 64, "heading": 1024, "title": 1024}
INDEX_TYPES = ("FLAT", "IVF_FLAT", "IVF_SQ8", "HNSW", "HNSW_SQ", "AUTOINDEX")
METRICS = ("COSINE", "IP", "L2")


@dataclass
class IndexConfig:
    """Index type and its build/search parameters (HNSW M/efConstruction/ef, IVF nlist/nprobe)."""

    index_type: str = "HNSW"
    metric: str = "COSINE"
    params: dict[str, Any] = field(default_factory=lambda: {"M": 16, "efConstruction": 200})
    search_params: dict[str, Any] = field(default_factory=lambda: {"ef": 128})

    def __post_init__(self) -> None:
        self.index_type = self.index_type.upper()
        self.metric = self.metric.upper()
        if self.index_type not in INDEX_TYPES:
            raise AdaptlabError(f"index type '{self.index_type}' not supported; use one of {', '.join(INDEX_TYPES)}")
        if self.metric not in METRICS:
            raise AdaptlabError(f"metric '{self.metric}' not supported; use one of {', '.join(METRICS)}")


@dataclass
class Hit:
    id: str
    score: float
    fields: dict[str, Any]


def _reason(exc: Exception) -> str:
    """pymilvus errors carry the server's message; show that, on one line."""
    return str(getattr(exc, "message", None) or exc).splitlines()[0]


def collection_name(corpus: str, model: str) -> str:
    """A valid Milvus collection name for one corpus and one model."""
    slug = re.sub(r"[^0-9A-Za-z_]+", "_", f"{corpus}__{model}").strip("_")
    if not slug or not (slug[0].isalpha() or slug[0] == "_"):
        slug = f"c_{slug}"
    return slug[:255]


def _clip(value: Any, limit: int) -> str:
    text = "" if value is None else str(value)
    return text if len(text.encode("utf-8")) <= limit else text.encode("utf-8")[: limit - 4].decode("utf-8", "ignore")


def _metadata_field(key: str) -> str | None:
    """Document metadata goes into Milvus' dynamic field under identifier-safe names."""
    name = re.sub(r"[^0-9A-Za-z_]", "_", key)
    if not name or name[0].isdigit() or name in TEXT_FIELDS or name in ("id", "vector"):
        return None
    return name


class MilvusVectorStore:
    """One Milvus connection; collections are created on first use with the configured index."""

    def __init__(self, uri: str, token: str | None = None) -> None:
        os.environ.setdefault("GRPC_VERBOSITY", "NONE")  # keepalive chatter on long runs, not errors
        from pymilvus import MilvusClient

        # pymilvus logs every failed RPC with a traceback; the errors we raise already say what went wrong
        logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
        self.uri = uri
        self._loaded: set[str] = set()
        try:
            self.client = MilvusClient(uri=uri, token=token or "")
        except Exception as exc:  # connection problems are user-fixable
            raise AdaptlabError(f"cannot open Milvus at {uri}: {_reason(exc)}") from None

    def close(self) -> None:
        self.client.close()

    def has(self, name: str) -> bool:
        return bool(self.client.has_collection(name))

    def _load(self, name: str) -> None:
        """A collection opened by another process starts released; searching or querying needs it loaded."""
        if name not in self._loaded:
            self.client.load_collection(name)
            self._loaded.add(name)

    def ensure_collection(self, name: str, dim: int, index: IndexConfig) -> bool:
        """Create the collection with scalar fields for filtering; True if it was created now."""
        from pymilvus import DataType, MilvusClient

        if self.has(name):
            return False
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=True)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=ID_MAX)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        for fname, limit in TEXT_FIELDS.items():
            schema.add_field(fname, DataType.VARCHAR, max_length=limit)
        schema.add_field("page", DataType.INT64)
        params = self.client.prepare_index_params()
        params.add_index(
            field_name="vector", index_type=index.index_type, metric_type=index.metric, params=index.params
        )
        self.client.create_collection(name, schema=schema, index_params=params)
        return True

    def upsert(self, name: str, ids: list[str], vectors: np.ndarray, rows: list[dict[str, Any]]) -> None:
        entities = []
        for cid, vec, row in zip(ids, vectors, rows):
            entity: dict[str, Any] = {"id": cid, "vector": vec.tolist(), "page": int(row.get("page") or 0)}
            for fname, limit in TEXT_FIELDS.items():
                entity[fname] = _clip(row.get(fname), limit)
            for key, value in (row.get("metadata") or {}).items():
                mkey = _metadata_field(key)
                if mkey and isinstance(value, (str, int, float, bool)):
                    entity[mkey] = value
            entities.append(entity)
        if entities:
            self.client.upsert(name, entities)

    def delete(self, name: str, ids: list[str]) -> None:
        for start in range(0, len(ids), 1000):
            self.client.delete(name, ids=ids[start : start + 1000])

    def flush(self, name: str) -> None:
        self.client.flush(name)

    def count(self, name: str) -> int:
        if not self.has(name):
            return 0
        self._load(name)
        res = self.client.query(name, filter="", output_fields=["count(*)"])
        return int(res[0]["count(*)"])

    def all_ids(self, name: str) -> set[str]:
        """Every primary key in the collection (used to reconcile after a crash)."""
        ids: set[str] = set()
        self._load(name)
        iterator = self.client.query_iterator(name, batch_size=4096, filter="", output_fields=["id"])
        while True:
            page = iterator.next()
            if not page:
                iterator.close()
                return ids
            ids.update(r["id"] for r in page)

    def all_vectors(self, name: str, page: int = 4096) -> tuple[list[str], np.ndarray]:
        """Every (id, vector) pair of the collection, in pages (an in-process copy for serving)."""
        self._load(name)
        ids: list[str] = []
        rows: list[list[float]] = []
        iterator = self.client.query_iterator(name, batch_size=page, filter="", output_fields=["id", "vector"])
        while True:
            batch = iterator.next()
            if not batch:
                iterator.close()
                break
            ids.extend(str(r["id"]) for r in batch)
            rows.extend(r["vector"] for r in batch)
        return ids, np.asarray(rows, dtype=np.float32).reshape(len(ids), -1)

    def search(
        self,
        name: str,
        vectors: np.ndarray,
        k: int,
        index: IndexConfig,
        filter: str | None = None,
        output_fields: list[str] | None = None,
    ) -> list[list[Hit]]:
        if not self.has(name):
            raise AdaptlabError(f"collection '{name}' does not exist in {self.uri}; run `adaptlab embed` first")
        self._load(name)
        try:
            results = self.client.search(
                name,
                data=[v.tolist() for v in vectors],
                limit=k,
                filter=filter or "",
                output_fields=output_fields or list(TEXT_FIELDS) + ["page"],
                search_params={"metric_type": index.metric, "params": index.search_params},
            )
        except Exception as exc:
            if filter:
                raise AdaptlabError(f"bad filter {filter!r}: {_reason(exc)}") from None
            raise
        return [[Hit(str(h["id"]), float(h["distance"]), dict(h.get("entity") or {})) for h in hits] for hits in results]

    def drop(self, name: str) -> None:
        if self.has(name):
            self.client.drop_collection(name)
        self._loaded.discard(name)

    def vector_index(self, name: str) -> dict[str, Any]:
        """The vector field's index as Milvus describes it (index_type, metric_type, build params)."""
        return dict(self.client.describe_index(name, "vector") or {})

    def reindex(self, name: str, index: IndexConfig) -> None:
        """Swap the vector index of an existing collection in place (the rows stay): release, drop, build, load."""
        if not self.has(name):
            raise AdaptlabError(f"collection '{name}' does not exist; run `adaptlab embed` first")
        self.client.release_collection(name)
        self._loaded.discard(name)
        self.client.drop_index(name, "vector")
        params = self.client.prepare_index_params()
        params.add_index(
            field_name="vector", index_type=index.index_type, metric_type=index.metric, params=index.params
        )
        try:
            self.client.create_index(name, params)
        except Exception as exc:  # bad params for this server (e.g. nlist > rows) are user-fixable
            raise AdaptlabError(f"cannot build {index.index_type} on '{name}': {_reason(exc)}") from None
        self._load(name)

    def list_collections(self) -> list[str]:
        return sorted(self.client.list_collections())
