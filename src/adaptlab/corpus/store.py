"""The corpus store: documents and chunks in SQLite with content-hash ids.

Re-ingesting an unchanged file touches nothing; a changed document's chunks are replaced and the ids
of their old vectors are queued in `stale_vectors`, so the vector stage deletes them too.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from adaptlab.corpus.types import Chunk, Document

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    source TEXT PRIMARY KEY, file_hash TEXT NOT NULL, size INTEGER, chunking TEXT, n_docs INTEGER,
    ingested_at REAL
);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, source TEXT NOT NULL, key TEXT NOT NULL, title TEXT, text_hash TEXT NOT NULL,
    chunking TEXT NOT NULL, lang TEXT, metadata TEXT, n_chunks INTEGER, ingested_at REAL
);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id), ordinal INTEGER,
    heading TEXT, text TEXT NOT NULL, page INTEGER, lang TEXT, n_words INTEGER, n_tokens INTEGER
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS embedded (
    collection TEXT NOT NULL, chunk_id TEXT NOT NULL, PRIMARY KEY (collection, chunk_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stale_vectors (
    collection TEXT NOT NULL, chunk_id TEXT NOT NULL, PRIMARY KEY (collection, chunk_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY, model TEXT NOT NULL, dim INTEGER, uri TEXT, metric TEXT, index_type TEXT,
    created_at REAL
);
"""


RECORD_CACHE = 20_000
"""Chunk records `chunks_by_ids` keeps for repeated reads (~2 KB each)."""


@dataclass
class ChunkRecord:
    """A stored chunk joined with its document's metadata: what embed and search need."""

    chunk_id: str
    doc_id: str
    ordinal: int
    heading: str
    text: str
    page: int | None
    lang: str
    source: str
    title: str
    doc_metadata: dict[str, Any]

    @property
    def embed_text(self) -> str:
        return f"{self.heading}\n{self.text}" if self.heading else self.text


class DocumentRows(NamedTuple):
    """A document and its chunks as the store's rows, hashes and word counts computed: what worker
    processes send back (plain tuples pickle fast) and what `CorpusStore.write_file` inserts."""

    doc_id: str
    text_hash: str
    fields: tuple[str, str, str, str, str]
    """source, key, title, lang, metadata as JSON"""
    chunks: list[tuple[Any, ...]]
    """(chunk_id, doc_id, ordinal, heading, text, page, lang, words, tokens) per chunk"""


def document_rows(doc: Document, chunks: list[Chunk]) -> DocumentRows:
    doc_id = doc.doc_id
    metadata = json.dumps(doc.metadata, ensure_ascii=False, default=str)
    return DocumentRows(
        doc_id,
        doc.text_hash,
        (doc.source, doc.key, doc.title, doc.lang, metadata),
        [
            (
                c.chunk_id,
                c.doc_id,
                c.ordinal,
                c.heading,
                c.text,
                c.page,
                c.lang,
                len(c.text.split()) if c.n_words is None else c.n_words,
                c.n_tokens,
            )
            for c in chunks
        ],
    )


class CorpusStore:
    """SQLite-backed store; one connection, WAL mode, every write in a transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(str(path), timeout=60)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        self._record_cache: dict[str, ChunkRecord] = {}
        self._cache_generation: tuple[int, int] | None = None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> CorpusStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.conn:
            yield self.conn

    # ---- files -------------------------------------------------------------------------------
    def file_unchanged(self, source: str, file_hash: str, chunking: str) -> bool:
        row = self.conn.execute(
            "SELECT file_hash, chunking FROM files WHERE source = ?", (source,)
        ).fetchone()
        return row is not None and row["file_hash"] == file_hash and row["chunking"] == chunking

    def sources(self) -> list[str]:
        rows = self.conn.execute("SELECT source FROM files UNION SELECT DISTINCT source FROM documents")
        return sorted(r[0] for r in rows)

    # ---- writing -----------------------------------------------------------------------------
    def replace_file(
        self,
        source: str,
        file_hash: str,
        size: int,
        chunking: str,
        docs: list[tuple[Document, list[Chunk]]],
    ) -> dict[str, int]:
        """Make the store hold exactly `docs` for `source`, atomically. Returns counts by status."""
        with self.transaction() as conn:
            return self.write_file(
                conn, source, file_hash, size, chunking, [document_rows(d, c) for d, c in docs]
            )

    def write_file(
        self,
        conn: sqlite3.Connection,
        source: str,
        file_hash: str,
        size: int,
        chunking: str,
        docs: list[DocumentRows],
    ) -> dict[str, int]:
        """`replace_file` for rows built already (by `document_rows`, e.g. in a worker process), inside the
        caller's transaction: the caller commits, so several files can share one commit."""
        counts = {"added": 0, "updated": 0, "unchanged": 0, "removed": 0, "chunks": 0}
        keep = {doc.doc_id for doc in docs}
        old = [r[0] for r in conn.execute("SELECT doc_id FROM documents WHERE source = ?", (source,))]
        for doc_id in old:
            if doc_id not in keep:
                self._delete_document(conn, doc_id)
                counts["removed"] += 1
        now = time.time()
        for doc in docs:
            status = self._write_document(conn, doc, chunking, now)
            counts[status] += 1
            counts["chunks"] += len(doc.chunks) if status != "unchanged" else 0
        conn.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
            (source, file_hash, size, chunking, len(docs), now),
        )
        return counts

    def _write_document(self, conn: sqlite3.Connection, doc: DocumentRows, chunking: str, now: float) -> str:
        row = conn.execute(
            "SELECT text_hash, chunking FROM documents WHERE doc_id = ?", (doc.doc_id,)
        ).fetchone()
        if row is not None and row["text_hash"] == doc.text_hash and row["chunking"] == chunking:
            return "unchanged"
        if row is not None:
            self._delete_document(conn, doc.doc_id)
        source, key, title, lang, metadata = doc.fields
        conn.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc.doc_id, source, key, title, doc.text_hash, chunking, lang, metadata, len(doc.chunks), now),
        )
        conn.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", doc.chunks)
        return "added" if row is None else "updated"

    def _delete_document(self, conn: sqlite3.Connection, doc_id: str) -> None:
        """Remove a document and its chunks; vectors already written are queued for deletion."""
        conn.execute(
            "INSERT OR IGNORE INTO stale_vectors SELECT e.collection, e.chunk_id FROM embedded e "
            "JOIN chunks c ON c.chunk_id = e.chunk_id WHERE c.doc_id = ?",
            (doc_id,),
        )
        conn.execute(
            "DELETE FROM embedded WHERE chunk_id IN (SELECT chunk_id FROM chunks WHERE doc_id = ?)", (doc_id,)
        )
        conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))

    def remove_source(self, source: str) -> int:
        """Forget a file and its documents (used by --prune). Returns documents removed."""
        with self.transaction() as conn:
            ids = [r[0] for r in conn.execute("SELECT doc_id FROM documents WHERE source = ?", (source,))]
            for doc_id in ids:
                self._delete_document(conn, doc_id)
            conn.execute("DELETE FROM files WHERE source = ?", (source,))
        return len(ids)

    # ---- reading -----------------------------------------------------------------------------
    def _records(self, where: str = "", params: tuple[Any, ...] = ()) -> Iterator[ChunkRecord]:
        query = (
            "SELECT c.chunk_id, c.doc_id, c.ordinal, c.heading, c.text, c.page, c.lang, "
            "d.source, d.title, d.metadata FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
            f"{where} ORDER BY d.source, d.key, c.ordinal"
        )
        for r in self.conn.execute(query, params):
            yield ChunkRecord(
                r["chunk_id"],
                r["doc_id"],
                r["ordinal"],
                r["heading"] or "",
                r["text"],
                r["page"],
                r["lang"] or "",
                r["source"],
                r["title"] or "",
                json.loads(r["metadata"] or "{}"),
            )

    def iter_chunks(self) -> Iterator[ChunkRecord]:
        return self._records()

    def generation(self) -> tuple[int, int]:
        """Changes with every write, by this connection (total_changes) or any other (data_version): a
        cached view of the corpus is current while this stays equal."""
        return self.conn.total_changes, int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def chunk_ids(self) -> list[str]:
        """Every chunk id, sorted: cheap enough to tell on each search whether the corpus changed."""
        return [r[0] for r in self.conn.execute("SELECT chunk_id FROM chunks ORDER BY chunk_id")]

    def chunks_by_ids(self, chunk_ids: Iterable[str]) -> dict[str, ChunkRecord]:
        """The records of those ids that exist. Served from a bounded copy of recently read records while
        the store is unchanged (`generation`): a search server hydrates every hit of every query here,
        and popular chunks come back again and again (~11 us per record from SQLite, ~0.1 us cached)."""
        generation = self.generation()
        if generation != self._cache_generation:
            self._record_cache.clear()
            self._cache_generation = generation
        found: dict[str, ChunkRecord] = {}
        missing: list[str] = []
        for cid in chunk_ids:
            rec = self._record_cache.get(cid)
            if rec is None:
                missing.append(cid)
            else:
                found[cid] = rec
        keep = self._record_cache if len(missing) <= RECORD_CACHE else {}  # bulk reads pass the cache by
        for start in range(0, len(missing), 500):
            part = missing[start : start + 500]
            marks = ",".join("?" * len(part))
            for rec in self._records(f"WHERE c.chunk_id IN ({marks})", tuple(part)):
                found[rec.chunk_id] = keep[rec.chunk_id] = rec
        while len(self._record_cache) > RECORD_CACHE:  # the oldest read first out
            del self._record_cache[next(iter(self._record_cache))]
        return found

    def chunks_to_embed(self, collection: str) -> list[ChunkRecord]:
        """Chunks not yet written to `collection` (what makes embedding resumable)."""
        return list(
            self._records(
                "WHERE c.chunk_id NOT IN (SELECT chunk_id FROM embedded WHERE collection = ?)", (collection,)
            )
        )

    # ---- vector bookkeeping ------------------------------------------------------------------
    def mark_embedded(self, collection: str, chunk_ids: Iterable[str]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO embedded VALUES (?, ?)", [(collection, cid) for cid in chunk_ids]
            )

    def stale_vectors(self, collection: str) -> list[str]:
        rows = self.conn.execute("SELECT chunk_id FROM stale_vectors WHERE collection = ?", (collection,))
        return [r[0] for r in rows]

    def clear_stale(self, collection: str, chunk_ids: Iterable[str]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "DELETE FROM stale_vectors WHERE collection = ? AND chunk_id = ?",
                [(collection, cid) for cid in chunk_ids],
            )

    def register_collection(self, name: str, model: str, dim: int, uri: str, metric: str, index: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO collections VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, model, dim, uri, metric, index, time.time()),
            )

    def collections(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM collections ORDER BY name")]

    def reset_collection(self, collection: str) -> None:
        """Forget what was written to a collection (when the collection itself was dropped)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM embedded WHERE collection = ?", (collection,))
            conn.execute("DELETE FROM stale_vectors WHERE collection = ?", (collection,))

    # ---- status ------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        one = lambda q, *p: self.conn.execute(q, p).fetchone()[0]  # noqa: E731
        langs = dict(
            self.conn.execute("SELECT COALESCE(lang, ''), COUNT(*) FROM chunks GROUP BY 1").fetchall()
        )
        doc_langs = dict(
            self.conn.execute("SELECT COALESCE(lang, ''), COUNT(*) FROM documents GROUP BY 1").fetchall()
        )
        embedded = dict(self.conn.execute("SELECT collection, COUNT(*) FROM embedded GROUP BY 1").fetchall())
        return {
            "files": one("SELECT COUNT(*) FROM files"),
            "documents": one("SELECT COUNT(*) FROM documents"),
            "chunks": one("SELECT COUNT(*) FROM chunks"),
            "chunk_languages": langs,
            "document_languages": doc_langs,
            "embedded": embedded,
        }
