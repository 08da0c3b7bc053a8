"""A tiny workspace for the feature-store tests: three documents written straight into the corpus store
(two laws with abbreviations, one note without), and feedback written through the real serving log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adaptlab.corpus.store import CorpusStore
from adaptlab.corpus.types import Chunk, Document, Section
from adaptlab.serve.feedback import ServingLog, log_path
from adaptlab.workspace import Workspace

DOCS = [
    (
        "enwg.md",
        "Energiewirtschaftsgesetz",
        {"jurabk": "EnWG", "law": "EnWG"},
        "de",
        [
            "Netzbetreiber sind verpflichtet, Anlagen an ihr Netz anzuschließen.",
            "Die Bundesnetzagentur überwacht die Einhaltung der Pflichten.",
        ],
    ),
    (
        "eeg.md",
        "Erneuerbare-Energien-Gesetz",
        {"jurabk": "EEG 2023"},
        "de",
        ["Windenergieanlagen an Land erhalten eine Marktprämie nach Ausschreibung."],
    ),
    (
        "notes.txt",
        "Notes",
        {"format": "txt"},
        "en",
        [
            "Wind turbines convert kinetic energy into electricity for the grid.",
            "Heat pumps move heat from outside air into buildings.",
            "Grid operators must connect renewable plants first.",
        ],
    ),
]


def make_corpus(root: Path) -> dict[str, Any]:
    """Write the documents; returns {"chunks": {chunk_id: (doc_id, law, lang, n_words)}, "docs": {name: doc_id}}."""
    ws = Workspace.resolve(root)
    chunks: dict[str, tuple[str, str, str, int]] = {}
    docs: dict[str, str] = {}
    with CorpusStore(ws.corpus_db) as store:
        for name, title, meta, lang, texts in DOCS:
            source = str(root / name)
            doc = Document(
                source, "0", title, [Section(t, f"§ {i + 1}") for i, t in enumerate(texts)], meta, lang
            )
            parts = [Chunk(doc.doc_id, i, t, f"§ {i + 1}", None, lang) for i, t in enumerate(texts)]
            store.replace_file(source, doc.text_hash, len(doc.text), "words:500:20", [(doc, parts)])
            docs[name] = doc.doc_id
            law = meta.get("law") or meta.get("jurabk") or ""
            for c in parts:
                chunks[c.chunk_id] = (doc.doc_id, law, lang, len(c.text.split()))
    return {"chunks": chunks, "docs": docs}


def add_document(root: Path, name: str, text: str, meta: dict[str, Any]) -> str:
    """Ingest one more one-chunk document (as a later `adaptlab ingest` would); returns its chunk id."""
    with CorpusStore(Workspace.resolve(root).corpus_db) as store:
        source = str(root / name)
        doc = Document(source, "0", name, [Section(text)], meta, "de")
        chunk = Chunk(doc.doc_id, 0, text, "", None, "de")
        store.replace_file(source, doc.text_hash, len(text), "words:500:20", [(doc, [chunk])])
    return chunk.chunk_id


def add_feedback(root: Path, rows: list[dict[str, Any]]) -> None:
    """Feedback rows as the /feedback endpoint writes them (through ServingLog, committed on return)."""
    import time

    log = ServingLog(log_path(root))
    try:
        for row in rows:
            log.feedback({"at": time.time(), "request_id": "r", **row})
        assert log.flush()
    finally:
        log.close()


def chunk_of(corpus: dict[str, Any], doc_name: str) -> str:
    doc_id = corpus["docs"][doc_name]
    return next(c for c, (d, *_) in sorted(corpus["chunks"].items()) if d == doc_id)
