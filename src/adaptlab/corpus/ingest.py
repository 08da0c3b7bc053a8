"""The ingest stage: files → cleaned, language-tagged, chunked documents in the corpus store.

Each file is processed on its own; a bad file is skipped with a one-line reason and never stops
the rest. A file whose bytes and chunking settings are unchanged is not even parsed again.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from adaptlab.corpus.chunking import Chunker, ChunkingConfig
from adaptlab.corpus.cleaning import clean_text, drop_page_furniture
from adaptlab.corpus.language import DEFAULT_LANGUAGES, detect_language
from adaptlab.corpus.loaders import load_file, supported_suffixes
from adaptlab.corpus.loaders.base import LoadError, LoaderOptions
from adaptlab.corpus.store import CorpusStore
from adaptlab.corpus.types import Chunk, Document, Section


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class IngestReport:
    """Counts for the summary, and every skipped file with its reason."""

    files_seen: int = 0
    files_ingested: int = 0
    files_unchanged: int = 0
    documents_added: int = 0
    documents_updated: int = 0
    documents_unchanged: int = 0
    documents_removed: int = 0
    chunks_written: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.skipped

    def as_dict(self) -> dict[str, object]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("skipped", "warnings")}
        data["files_skipped"] = len(self.skipped)
        return data


def iter_files(paths: Iterable[Path], report: IngestReport) -> Iterator[Path]:
    """Files under the given paths, sorted, hidden entries skipped; missing paths are reported."""
    for path in paths:
        if path.is_symlink() and not path.exists():
            report.skipped.append(Skipped(str(path), "broken symlink"))
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        elif path.exists() or path.is_symlink():
            yield path
        else:
            report.skipped.append(Skipped(str(path), "no such file or directory"))


def file_digest(path: Path) -> tuple[str, int]:
    """sha256 of the bytes and the size; raises LoadError for unreadable files."""
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    except PermissionError:
        raise LoadError("permission denied") from None
    except OSError as exc:
        raise LoadError(f"cannot read file ({exc.strerror or exc})") from None
    return digest.hexdigest(), size


class _WarningCollector(logging.Handler):
    """Loaders log recoverable problems (a bad JSONL line, a unit without id); the report keeps them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def clean_document(doc: Document) -> Document:
    """Clean every section; page headers/footers go when a document has many pages."""
    texts = [s.text for s in doc.sections]
    if sum(1 for s in doc.sections if s.page is not None) >= 3:
        texts = drop_page_furniture(texts)
    sections = [
        Section(clean_text(text), heading=clean_text(s.heading), page=s.page)
        for s, text in zip(doc.sections, texts)
    ]
    sections = [s for s in sections if s.text]
    return Document(doc.source, doc.key, clean_text(doc.title), sections, doc.metadata, doc.lang)


class Ingestor:
    """Runs ingest for a list of paths against one store."""

    def __init__(
        self,
        store: CorpusStore,
        chunking: ChunkingConfig,
        options: LoaderOptions | None = None,
        token_length: Callable[[list[str]], list[int]] | None = None,
        languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    ) -> None:
        self.store = store
        self.chunking = chunking
        self.fingerprint = chunking.fingerprint()
        self.options = options or LoaderOptions()
        self.chunker = Chunker(chunking, token_length)
        self.languages = languages

    def _prepare(self, doc: Document) -> tuple[Document, list[Chunk]]:
        doc = clean_document(doc)
        if not doc.lang:
            doc.lang = detect_language(doc.title + "\n" + doc.text, self.languages)[0]
        chunks = self.chunker.chunk(doc)
        for chunk in chunks:
            lang = detect_language(chunk.text, self.languages, sample_chars=600)[0]
            chunk.lang = doc.lang if lang == "und" else lang
        return doc, chunks

    def ingest_file(self, path: Path, report: IngestReport) -> None:
        """One file, start to end; a LoadError becomes a skip, never an exception."""
        report.files_seen += 1
        source = str(path.absolute())
        try:
            if path.is_symlink() and not path.exists():
                raise LoadError("broken symlink")
            file_hash, size = file_digest(path)
            if self.store.file_unchanged(source, file_hash, self.fingerprint):
                report.files_unchanged += 1
                return
            docs = self._load(Path(source), report)
            for doc in docs:
                doc.source = source  # identity is the absolute path, whatever the cwd
            prepared = [(d, c) for d, c in map(self._prepare, docs) if c]
            if not prepared:
                raise LoadError("no text left after cleaning")
        except LoadError as exc:
            report.skipped.append(Skipped(str(path), str(exc)))
            return
        counts = self.store.replace_file(source, file_hash, size, self.fingerprint, prepared)
        report.files_ingested += 1
        report.documents_added += counts["added"]
        report.documents_updated += counts["updated"]
        report.documents_unchanged += counts["unchanged"]
        report.documents_removed += counts["removed"]
        report.chunks_written += counts["chunks"]

    def _load(self, path: Path, report: IngestReport) -> list[Document]:
        collector = _WarningCollector()
        logger = logging.getLogger("adaptlab.corpus.loaders")
        logger.addHandler(collector)
        try:
            return load_file(path, self.options)
        finally:
            logger.removeHandler(collector)
            report.warnings.extend(f"{path}: {m}" for m in collector.messages)

    def prune(self, report: IngestReport) -> None:
        """Remove documents whose files no longer exist."""
        for source in self.store.sources():
            if not Path(source).exists():
                report.documents_removed += self.store.remove_source(source)


def supported_files_hint() -> str:
    return ", ".join(sorted(supported_suffixes()))
