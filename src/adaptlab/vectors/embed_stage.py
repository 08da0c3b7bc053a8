"""The embed stage: encode every chunk not yet in the model's collection and upsert it into Milvus.

Resumable after kill -9: vectors are upserted by chunk id (never duplicated) and a chunk is marked
embedded in SQLite only after its vector was written; on start the marks are reconciled with Milvus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
import time

import numpy as np
from rich.console import Console

from adaptlab.corpus.store import ChunkRecord, CorpusStore
from adaptlab.models.base import Embedder
from adaptlab.models.encode import iter_blocks
from adaptlab.progress import make_progress
from adaptlab.vectors.milvus_store import IndexConfig, MilvusVectorStore


@dataclass
class EmbedReport:
    model: str
    collection: str
    embedded_now: int = 0
    already_embedded: int = 0
    stale_deleted: int = 0
    vectors_in_collection: int = 0
    chunks_in_corpus: int = 0
    seconds: float = 0.0
    over_length: int = 0
    longest_tokens: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def chunks_per_second(self) -> float:
        return self.embedded_now / self.seconds if self.seconds > 0 else 0.0


def truncation_warning(embedder: Embedder, records: Sequence[ChunkRecord]) -> tuple[int, int, str | None]:
    """Count chunks longer than the model's max_seq_length, so truncation is never silent."""
    if not records or not embedder.max_seq_length:
        return 0, 0, None
    counts = embedder.count_tokens([r.embed_text for r in records])
    if counts is None:
        return 0, 0, None
    over = [n for n in counts if n > embedder.max_seq_length]
    longest = max(counts)
    if not over:
        return 0, longest, None
    message = (
        f"{len(over)} of {len(records)} chunks exceed {embedder.name}'s max_seq_length of "
        f"{embedder.max_seq_length} tokens (longest {longest}); the model sees only their first "
        f"{embedder.max_seq_length} tokens. Re-ingest with `--chunk-unit tokens --chunk-model {embedder.name}` "
        "to size chunks to the model."
    )
    return len(over), longest, message


BlockSource = Callable[[list[str]], Iterator[tuple[list[int], np.ndarray]]]
"""Turns the texts to embed into (indices, vectors) blocks: in-process by default, Ray actors in ray_embed."""


def _reconcile(store: CorpusStore, vectors: MilvusVectorStore, collection: str, console: Console) -> None:
    """After a crash the SQLite marks and Milvus may disagree: trust what Milvus holds."""
    marked = store.conn.execute("SELECT COUNT(*) FROM embedded WHERE collection = ?", (collection,)).fetchone()[0]
    if vectors.count(collection) == marked:
        return
    present = vectors.all_ids(collection)
    marked_ids = {r[0] for r in store.conn.execute("SELECT chunk_id FROM embedded WHERE collection = ?", (collection,))}
    live = {r[0] for r in store.conn.execute("SELECT chunk_id FROM chunks")}
    orphans = sorted(present - live)  # vectors whose chunks were replaced while we were down
    if orphans:
        vectors.delete(collection, orphans)
    missing = marked_ids - present
    with store.transaction() as conn:
        conn.executemany("DELETE FROM embedded WHERE collection = ? AND chunk_id = ?", [(collection, c) for c in missing])
        conn.executemany(
            "INSERT OR IGNORE INTO embedded VALUES (?, ?)", [(collection, c) for c in (present & live) - marked_ids]
        )
    console.print(f"reconciled {collection}: {len(missing)} re-queued, {len(orphans)} orphan vectors removed")


def run_embed(
    store: CorpusStore,
    vectors: MilvusVectorStore,
    embedder: Embedder,
    collection: str,
    index: IndexConfig,
    batch_size: int = 32,
    block_size: int = 512,
    console: Console | None = None,
    blocks: BlockSource | None = None,
) -> EmbedReport:
    """Bring `collection` up to date with the corpus for one model.

    `blocks` replaces the in-process encoder (e.g. Ray actors); whatever encodes, this process writes
    each block to Milvus and marks it embedded, so resume and idempotence hold the same way.
    """
    console = console or Console(stderr=True)
    report = EmbedReport(embedder.name, collection)
    if vectors.ensure_collection(collection, embedder.dim, index):
        store.reset_collection(collection)  # a new (or dropped) collection holds nothing yet
    store.register_collection(collection, embedder.name, embedder.dim, vectors.uri, index.metric, index.index_type)
    stale = store.stale_vectors(collection)
    if stale:
        vectors.delete(collection, stale)
        store.clear_stale(collection, stale)
        report.stale_deleted = len(stale)
    _reconcile(store, vectors, collection, console)

    todo = store.chunks_to_embed(collection)
    report.chunks_in_corpus = store.conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    report.already_embedded = report.chunks_in_corpus - len(todo)
    report.over_length, report.longest_tokens, warning = truncation_warning(embedder, todo)
    if warning:
        report.warnings.append(warning)
        console.print(f"[yellow]warning:[/yellow] {warning}")
    start = time.perf_counter()
    with make_progress(console, unit="chunks") as progress:
        task = progress.add_task(f"embed {embedder.name}", total=len(todo))
        texts = [r.embed_text for r in todo]
        encoded = blocks(texts) if blocks else iter_blocks(embedder, texts, batch_size, block_size)
        for idx, vecs in encoded:
            block = [todo[i] for i in idx]
            rows = [
                {"lang": r.lang, "source": r.source, "doc_id": r.doc_id, "heading": r.heading,
                 "title": r.title, "page": r.page, "metadata": r.doc_metadata}
                for r in block
            ]
            vectors.upsert(collection, [r.chunk_id for r in block], vecs, rows)
            store.mark_embedded(collection, [r.chunk_id for r in block])
            report.embedded_now += len(block)
            progress.advance(task, len(block))
    report.seconds = time.perf_counter() - start
    if todo or stale:
        vectors.flush(collection)
    report.vectors_in_collection = vectors.count(collection)
    return report
