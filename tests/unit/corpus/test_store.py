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
