"""The two records every stage passes around: a loaded Document and the Chunks cut from it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


def content_hash(*parts: str) -> str:
    """Stable id from content: the same input always gives the same id (idempotent stages)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]


@dataclass
class Section:
    """A stretch of a document's text under one heading path (e.g. 'EnWG > Teil 1 > § 3 Begriffe')."""

    text: str
    heading: str = ""
    page: int | None = None


@dataclass
class Document:
    """One logical document. A file may yield many (a JSONL line, a MaStR unit, an ontology class).

    `source` is the file path; `key` tells apart documents from the same file (line number,
    unit number); together they are the document's identity, while `text_hash` changes with content.
    """

    source: str
    key: str
    title: str
    sections: list[Section]
    metadata: dict[str, Any] = field(default_factory=dict)
    lang: str = ""

    @property
    def doc_id(self) -> str:
        return content_hash(self.source, self.key)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections if s.text)

    @property
    def text_hash(self) -> str:
        parts = [self.title]
        for s in self.sections:
            parts += [s.heading, s.text, str(s.page)]
        parts.append(repr(sorted(self.metadata.items(), key=lambda kv: kv[0])))
        return content_hash(*parts)


@dataclass
class Chunk:
    """A piece of a document sized for the embedding model; `heading` travels with it as context."""

    doc_id: str
    ordinal: int
    text: str
    heading: str = ""
    page: int | None = None
    lang: str = ""
    n_tokens: int | None = None
    n_words: int | None = None
    """set by the word chunker, which counted them already; else counted when stored"""

    @property
    def chunk_id(self) -> str:
        return content_hash(self.doc_id, str(self.ordinal), self.heading, self.text)

    @property
    def embed_text(self) -> str:
        """What the model sees: the heading as context, then the text."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text
