from pathlib import Path

from adaptlab.corpus.store import CorpusStore
from adaptlab.corpus.types import Chunk, Document, Section


def _doc(text: str, key: str = "") -> tuple[Document, list[Chunk]]:
    doc = Document("/x/a.md", key, "A", [Section(text)], {"law": "EnWG"}, "de")
    return doc, [Chunk(doc.doc_id, 0, text, heading="H", lang="de")]


def test_unchanged_documents_are_not_rewritten(tmp_path: Path) -> None:
    store = CorpusStore(tmp_path / "c.sqlite")
    first = store.replace_file("/x/a.md", "h1", 10, "words:500:20:", [_doc("eins")])
    second = store.replace_file("/x/a.md", "h2", 10, "words:500:20:", [_doc("eins")])
    assert first["added"] == 1 and second["unchanged"] == 1 and second["chunks"] == 0
    assert store.stats()["chunks"] == 1


def test_changed_document_queues_its_old_vectors_for_deletion(tmp_path: Path) -> None:
    store = CorpusStore(tmp_path / "c.sqlite")
    doc, chunks = _doc("eins")
    store.replace_file("/x/a.md", "h1", 10, "w", [(doc, chunks)])
    store.mark_embedded("col", [chunks[0].chunk_id])
    counts = store.replace_file("/x/a.md", "h2", 10, "w", [_doc("zwei")])
    assert counts["updated"] == 1
    assert store.stale_vectors("col") == [chunks[0].chunk_id]
    assert [r.text for r in store.chunks_to_embed("col")] == ["zwei"]


def test_documents_gone_from_a_file_are_removed(tmp_path: Path) -> None:
    store = CorpusStore(tmp_path / "c.sqlite")
    store.replace_file("/x/a.md", "h1", 10, "w", [_doc("eins", "1"), _doc("zwei", "2")])
    counts = store.replace_file("/x/a.md", "h2", 10, "w", [_doc("eins", "1")])
    assert counts["removed"] == 1 and store.stats()["documents"] == 1
    assert store.remove_source("/x/a.md") == 1 and store.stats()["chunks"] == 0


def test_records_carry_document_metadata(tmp_path: Path) -> None:
    store = CorpusStore(tmp_path / "c.sqlite")
    doc, chunks = _doc("eins")
    store.replace_file("/x/a.md", "h", 1, "w", [(doc, chunks)])
    record = store.chunks_by_ids([chunks[0].chunk_id])[chunks[0].chunk_id]
    assert record.doc_metadata == {"law": "EnWG"} and record.embed_text == "H\neins"


def test_repeated_reads_come_from_the_record_cache_until_the_store_changes(tmp_path: Path) -> None:
    store = CorpusStore(tmp_path / "c.sqlite")
    doc, chunks = _doc("eins", "1")
    store.replace_file("/x/a.md", "h1", 10, "w", [(doc, chunks)])
    cid = chunks[0].chunk_id
    first = store.chunks_by_ids([cid, "missing"])
    assert list(first) == [cid]
    assert store.chunks_by_ids([cid])[cid] is first[cid]  # served from the cache

    store.replace_file("/x/a.md", "h2", 10, "w", [_doc("zwei", "2")])  # a write by this connection
    assert store.chunks_by_ids([cid]) == {}

    other = CorpusStore(tmp_path / "c.sqlite")  # a write by another connection (another process)
    (new_id,) = [r.chunk_id for r in store.iter_chunks()]
    assert store.chunks_by_ids([new_id])[new_id].text == "zwei"
    other.remove_source("/x/a.md")
    assert store.chunks_by_ids([new_id]) == {}


def test_the_record_cache_is_bounded(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import adaptlab.corpus.store as store_module

    monkeypatch.setattr(store_module, "RECORD_CACHE", 2)
    store = CorpusStore(tmp_path / "c.sqlite")
    docs = [_doc(text, str(i)) for i, text in enumerate(["eins", "zwei", "drei"])]
    store.replace_file("/x/a.md", "h", 10, "w", docs)
    ids = [chunks[0].chunk_id for _, chunks in docs]
    for cid in ids:
        store.chunks_by_ids([cid])
    assert list(store._record_cache) == ids[1:]  # the oldest read went first
    fresh = CorpusStore(tmp_path / "c.sqlite")
    assert len(fresh.chunks_by_ids(ids)) == 3  # a bulk read over the bound is answered, not cached
    assert fresh._record_cache == {}
