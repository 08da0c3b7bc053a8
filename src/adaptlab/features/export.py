"""Features out of the workspace and into Parquet: Feast's offline store is these files.

Three tables, each written whole and replaced atomically, so re-exporting unchanged data writes the same
rows (the stage is idempotent):

- `chunk_metadata.parquet`, one row per chunk: document id, language, source, title, section heading,
  length in words, the law's abbreviation (`law`/`jurabk` front matter) or "". Its event time is the
  document's ingest time, so a re-ingested document is picked up by incremental materialization.
- `document_popularity.parquet`, one row per document with feedback: clicks, ratings, mean rating and
  `popularity` = ln(1 + clicks) (diminishing returns, so one viral document cannot swamp the ranking),
  counted from the `/feedback` log in `<workspace>/serving/serving.sqlite`. Its event time is the
  document's latest feedback, so only documents with new feedback are re-materialized.
- `chunk_embedding.parquet`, one row per chunk vector of ONE model's Milvus collection (the config's first
  model unless another is chosen): chunk id, model name, the vector as list<float32>. Its event time is the
  document's ingest time; re-embedding changes vectors but not that time, so the table's `digest` tells
  materialization when to copy it whole again. No collection yet → an empty table and a note.

A click names a chunk and counts for the chunk's document. A rating counts for a document only when it
names a chunk too; a rating of a whole result list cannot be attributed and is reported as skipped.
"""

from __future__ import annotations

import json
import math
import sqlite3
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from adaptlab.serve.feedback import log_path
from adaptlab.workspace import Workspace

TIMESTAMP = pa.timestamp("us", tz="UTC")
CHUNK_SCHEMA = pa.schema(
    [
        ("chunk_id", pa.string()),
        ("doc_id", pa.string()),
        ("lang", pa.string()),
        ("source", pa.string()),
        ("title", pa.string()),
        ("heading", pa.string()),
        ("n_words", pa.int64()),
        ("law", pa.string()),
        ("event_timestamp", TIMESTAMP),
    ]
)
POPULARITY_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("clicks", pa.int64()),
        ("ratings", pa.int64()),
        ("mean_rating", pa.float64()),
        ("popularity", pa.float64()),
        ("event_timestamp", TIMESTAMP),
    ]
)
EMBEDDING_SCHEMA = pa.schema(
    [
        ("chunk_id", pa.string()),
        ("model", pa.string()),
        ("embedding", pa.list_(pa.float32())),
        ("event_timestamp", TIMESTAMP),
    ]
)
CHUNKS_FILE, POPULARITY_FILE = "chunk_metadata.parquet", "document_popularity.parquet"
EMBEDDINGS_FILE = "chunk_embedding.parquet"
LAW_KEYS = ("law", "jurabk")


@dataclass
class ExportReport:
    chunks: int
    documents_with_feedback: int
    clicks: int
    ratings: int
    skipped_feedback: int  # clicks on chunks no longer in the corpus, ratings naming no chunk
    chunk_file: Path
    popularity_file: Path
    embeddings: int = 0
    embedding_model: str | None = None
    embedding_file: Path | None = None
    embedding_digest: str = ""  # changes whenever any exported vector (or the model) changes
    notes: list[str] = field(default_factory=list)  # e.g. the embedding table skipped: nothing embedded yet
    embeddings_kept: bool = False  # the previous embedding table was left as it was (Milvus unreadable)

    def as_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in self.__dict__.items()}


@dataclass
class ChunkVectors:
    """One model's vectors as read from its collection (`MilvusVectorStore.all_vectors`), or why there are none."""

    model: str
    ids: list[str]
    matrix: np.ndarray  # float32, one row per id
    note: str | None = None
    unreadable: bool = False  # Milvus could not be opened (a server holds the Lite file): keep the last table


def popularity_score(clicks: int) -> float:
    """ln(1 + clicks): the number /search adds (times the configured weight) to a hit's score."""
    return math.log1p(max(clicks, 0))


def law_of(metadata: dict[str, Any]) -> str:
    for key in LAW_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _utc(seconds: float | None) -> datetime:
    return datetime.fromtimestamp(seconds or 0.0, tz=timezone.utc)


def chunk_rows(corpus_db: Path) -> list[dict[str, Any]]:
    """One dict per chunk, read straight from the corpus store (read-only; ordered by chunk id)."""
    if not corpus_db.is_file():
        return []
    conn = sqlite3.connect(f"file:{corpus_db}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute(
            "SELECT c.chunk_id, c.doc_id, c.lang, d.source, d.title, c.heading, c.n_words, c.text, "
            "d.metadata, d.ingested_at FROM chunks c JOIN documents d ON d.doc_id = c.doc_id ORDER BY c.chunk_id"
        ).fetchall()
    finally:
        conn.close()
    out = []
    for chunk_id, doc_id, lang, source, title, heading, n_words, text, metadata, ingested_at in rows:
        meta = json.loads(metadata or "{}")
        out.append(
            {
                "chunk_id": chunk_id,
                "doc_id": doc_id,
                "lang": lang or "",
                "source": source or "",
                "title": title or "",
                "heading": heading or "",
                "n_words": int(n_words if n_words is not None else len(text.split())),
                "law": law_of(meta if isinstance(meta, dict) else {}),
                "event_timestamp": _utc(ingested_at),
            }
        )
    return out


def popularity_rows(serving_db: Path, doc_of: dict[str, str]) -> tuple[list[dict[str, Any]], int, int, int]:
    """Per document: clicks, ratings, mean rating, popularity; plus click, rating and skipped counts."""
    if not serving_db.is_file():
        return [], 0, 0, 0
    conn = sqlite3.connect(f"file:{serving_db}?mode=ro", uri=True, timeout=30)
    try:
        feedback = conn.execute("SELECT at, kind, chunk_id, rating FROM feedback ORDER BY id").fetchall()
    finally:
        conn.close()
    docs: dict[str, dict[str, Any]] = {}
    clicks = ratings = skipped = 0
    for at, kind, chunk_id, rating in feedback:
        doc_id = doc_of.get(chunk_id or "")
        if doc_id is None or (kind == "rating" and rating is None) or kind not in ("click", "rating"):
            skipped += 1
            continue
        row = docs.setdefault(doc_id, {"doc_id": doc_id, "clicks": 0, "ratings": 0, "sum": 0.0, "at": 0.0})
        row["at"] = max(row["at"], at or 0.0)
        if kind == "click":
            row["clicks"] += 1
            clicks += 1
        else:
            row["ratings"] += 1
            row["sum"] += float(rating)
            ratings += 1
    out = [
        {
            "doc_id": r["doc_id"],
            "clicks": r["clicks"],
            "ratings": r["ratings"],
            "mean_rating": r["sum"] / r["ratings"] if r["ratings"] else 0.0,
            "popularity": popularity_score(r["clicks"]),
            "event_timestamp": _utc(r["at"]),
        }
        for r in sorted(docs.values(), key=lambda r: r["doc_id"])
    ]
    return out, clicks, ratings, skipped


def embedding_table(vectors: ChunkVectors, ingested_at: dict[str, datetime]) -> tuple[pa.Table, str]:
    """The embedding rows of chunks still in the corpus (ordered by chunk id) and their digest.

    A vector whose chunk is gone from the corpus (a collection not yet pruned by `embed`) is left out:
    its document has no ingest time, and search would not return it either."""
    order = sorted((c, i) for i, c in enumerate(vectors.ids) if c in ingested_at)
    if not order:
        return EMBEDDING_SCHEMA.empty_table(), ""
    ids = [c for c, _ in order]
    matrix = np.ascontiguousarray(vectors.matrix[[i for _, i in order]], dtype=np.float32)
    offsets = pa.array(np.arange(len(ids) + 1, dtype=np.int32) * matrix.shape[1])
    table = pa.table(
        {
            "chunk_id": pa.array(ids, type=pa.string()),
            "model": pa.array([vectors.model] * len(ids), type=pa.string()),
            "embedding": pa.ListArray.from_arrays(offsets, pa.array(matrix.reshape(-1), type=pa.float32())),
            "event_timestamp": pa.array([ingested_at[c] for c in ids], type=TIMESTAMP),
        },
        schema=EMBEDDING_SCHEMA,
    )
    digest = hashlib.sha256(vectors.model.encode())
    for chunk_id in ids:
        digest.update(chunk_id.encode())
    digest.update(matrix.tobytes())
    return table, digest.hexdigest()[:16]


def _write_table(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)


def _write(rows: list[dict[str, Any]], schema: pa.Schema, path: Path) -> None:
    """Write the whole table to a temporary file, then rename it over the old one (readers never see half)."""
    _write_table(pa.Table.from_pylist(rows, schema=schema), path)


def export_features(
    workspace: Workspace, data_dir: Path, vectors: ChunkVectors | None = None
) -> ExportReport:
    """Write the three Parquet tables from the workspace's corpus store, serving log and `vectors` (one
    model's collection; None or empty → an empty embedding table, so Feast's source always exists)."""
    chunks = chunk_rows(workspace.corpus_db)
    doc_of = {c["chunk_id"]: c["doc_id"] for c in chunks}
    popularity, clicks, ratings, skipped = popularity_rows(log_path(workspace.root), doc_of)
    chunk_file, popularity_file = data_dir / CHUNKS_FILE, data_dir / POPULARITY_FILE
    embedding_file = data_dir / EMBEDDINGS_FILE
    _write(chunks, CHUNK_SCHEMA, chunk_file)
    _write(popularity, POPULARITY_SCHEMA, popularity_file)
    report = ExportReport(len(chunks), len(popularity), clicks, ratings, skipped, chunk_file, popularity_file)
    if vectors is not None and vectors.note:
        report.notes.append(vectors.note)
    if vectors is not None and vectors.unreadable and embedding_file.is_file():
        report.embeddings_kept, report.embedding_file = True, embedding_file
        return report
    empty = ChunkVectors("", [], np.zeros((0, 0), dtype=np.float32))
    table, digest = embedding_table(vectors or empty, {c["chunk_id"]: c["event_timestamp"] for c in chunks})
    _write_table(table, embedding_file)
    report.embeddings, report.embedding_file, report.embedding_digest = table.num_rows, embedding_file, digest
    report.embedding_model = vectors.model if vectors else None
    return report
