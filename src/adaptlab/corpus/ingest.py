"""The ingest stage: files → cleaned, language-tagged, chunked documents in the corpus store.

Each file is processed on its own; a bad file is skipped with a one-line reason and never stops
the rest. A file whose bytes and chunking settings are unchanged is not even parsed again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from adaptlab.corpus.chunking import Chunker, ChunkingConfig
from adaptlab.corpus.cleaning import clean_text, drop_page_furniture
from adaptlab.corpus.language import DEFAULT_LANGUAGES, detect_language, detect_languages
from adaptlab.corpus.loaders import load_file, supported_suffixes
from adaptlab.corpus.loaders.base import LoadError, LoaderOptions
from adaptlab.corpus.prepare_pool import PreparePool, prepare_in_order
from adaptlab.corpus.store import CorpusStore, DocumentRows, document_rows
from adaptlab.corpus.types import Chunk, Document, Section


# Several files share one commit (a commit costs ~0.25 ms, a small file's whole ingest ~1 ms); a crash
# loses at most this much finished work, which the next run ingests again (files are committed whole).
COMMIT_BYTES = 4_000_000
COMMIT_SECONDS = 1.0


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


DOC_SAMPLE_CHARS = 1500  # a document's language is told from its title and first characters
CHUNK_SAMPLE_CHARS = 600


def _leading_text(doc: Document, chars: int) -> str:
    """The first `chars` of title, newline and `doc.text`, without joining every section of a long document."""
    texts: list[str] = []
    size = len(doc.title) + 1
    for section in doc.sections:
        if section.text:
            texts.append(section.text)
            size += len(section.text) + 2
            if size >= chars:
                break
    return (doc.title + "\n" + "\n\n".join(texts))[:chars]


@dataclass
class PreparedFile:
    """A file after the CPU-heavy part of ingest (load, clean, detect, chunk, hash); picklable for workers.

    `rows` are ready for the store (ids, hashes and word counts computed where the file was prepared),
    so the process that writes does little more than insert them; `docs` is the object form, for
    preparers that fill that instead (the store builds the rows then).
    """

    path: Path
    source: str
    file_hash: str
    size: int
    docs: list[tuple[Document, list[Chunk]]]
    skipped: str | None = None
    warnings: list[str] = field(default_factory=list)
    rows: list[DocumentRows] | None = None

    def store_rows(self) -> list[DocumentRows]:
        return self.rows if self.rows is not None else [document_rows(d, c) for d, c in self.docs]


@dataclass
class FilePreparer:
    """Everything that turns one file into cleaned, language-tagged chunks; no store access.

    Only its settings are pickled, so worker processes get their own copy; the chunker (with the
    model's tokenizer for token chunks) is built lazily in whichever process uses it.
    """

    chunking: ChunkingConfig
    options: LoaderOptions
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    model_cache: Path | None = None  # where the token model's files are resolved
    _chunker: Chunker | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_chunker": None}

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            token_length = None
            if self.chunking.unit == "tokens" and self.chunking.model:
                from adaptlab.models.token_counter import load_token_counter

                token_length = load_token_counter(self.chunking.model, self.model_cache or Path(".")).count
            self._chunker = Chunker(self.chunking, token_length)
        return self._chunker

    def prepare_document(self, doc: Document) -> tuple[Document, list[Chunk]]:
        doc = clean_document(doc)
        if not doc.lang:
            doc.lang = detect_language(
                _leading_text(doc, DOC_SAMPLE_CHARS), self.languages, sample_chars=DOC_SAMPLE_CHARS
            )[0]
        chunks = self.chunker.chunk(doc)
        found = detect_languages([c.text for c in chunks], self.languages, sample_chars=CHUNK_SAMPLE_CHARS)
        for chunk, (lang, _) in zip(chunks, found):
            chunk.lang = doc.lang if lang == "und" else lang
        return doc, chunks

    def prepare(self, path: Path, file_hash: str, size: int) -> PreparedFile:
        """Load and chunk one file; a LoadError becomes `skipped`, never an exception."""
        source = str(path.absolute())
        result = PreparedFile(path, source, file_hash, size, [])
        collector = _WarningCollector()
        logger = logging.getLogger("adaptlab.corpus.loaders")
        logger.addHandler(collector)
        try:
            docs = load_file(Path(source), self.options)
            for doc in docs:
                doc.source = source  # identity is the absolute path, whatever the cwd
            result.rows = [document_rows(d, c) for d, c in map(self.prepare_document, docs) if c]
            if not result.rows:
                raise LoadError("no text left after cleaning")
        except LoadError as exc:
            result.skipped = str(exc)
        finally:
            logger.removeHandler(collector)
            result.warnings = [f"{path}: {m}" for m in collector.messages]
        return result


class Ingestor:
    """Runs ingest for files against one store: unchanged files are skipped by hash, the rest are
    prepared (optionally in worker processes too) and written to the store in input order."""

    def __init__(
        self, store: CorpusStore, preparer: FilePreparer, parallel_min_bytes: int | None = None
    ) -> None:
        self.store = store
        self.preparer = preparer
        self.fingerprint = preparer.chunking.fingerprint()
        # less changed input than this: no worker processes (default: the pool's own threshold)
        self.parallel_min_bytes = parallel_min_bytes

    def _changed(
        self, files: list[Path], report: IngestReport, on_file: Callable[[Path], None] | None
    ) -> list[tuple[Path, str, int]]:
        """Files whose bytes or chunking changed; the others are counted (and reported done) here."""
        jobs = []
        for path in files:
            report.files_seen += 1
            try:
                if path.is_symlink() and not path.exists():
                    raise LoadError("broken symlink")
                file_hash, size = file_digest(path)
            except LoadError as exc:
                report.skipped.append(Skipped(str(path), str(exc)))
            else:
                if not self.store.file_unchanged(str(path.absolute()), file_hash, self.fingerprint):
                    jobs.append((path, file_hash, size))
                    continue
                report.files_unchanged += 1
            if on_file:
                on_file(path)
        return jobs

    def ingest_files(
        self,
        files: list[Path],
        report: IngestReport,
        workers: int = 1,
        on_file: Callable[[Path], None] | None = None,
        pool: PreparePool | None = None,
    ) -> None:
        """Ingest `files`; `workers` > 1 prepares them in that many processes, this one included
        (`pool`'s, when given; the store is written here, in input order). A small batch of changed
        files stays in-process."""
        jobs = self._changed(files, report, on_file)
        conn = self.store.conn
        written, last_commit = 0, time.monotonic()
        try:
            prepared_files = prepare_in_order(
                self.preparer, jobs, workers, self.parallel_min_bytes, pool=pool
            )
            for prepared in prepared_files:
                written += self._write(conn, prepared, report)
                if on_file:
                    on_file(prepared.path)
                if written >= COMMIT_BYTES or time.monotonic() - last_commit >= COMMIT_SECONDS:
                    conn.commit()
                    written, last_commit = 0, time.monotonic()
        except BaseException:
            conn.rollback()  # a file half written is never committed; the rolled-back ones ingest next run
            raise
        conn.commit()

    def _write(self, conn: sqlite3.Connection, prepared: PreparedFile, report: IngestReport) -> int:
        """Insert one prepared file's rows (uncommitted); returns the input bytes written."""
        report.warnings.extend(prepared.warnings)
        if prepared.skipped is not None:
            report.skipped.append(Skipped(str(prepared.path), prepared.skipped))
            return 0
        counts = self.store.write_file(
            conn, prepared.source, prepared.file_hash, prepared.size, self.fingerprint, prepared.store_rows()
        )
        report.files_ingested += 1
        report.documents_added += counts["added"]
        report.documents_updated += counts["updated"]
        report.documents_unchanged += counts["unchanged"]
        report.documents_removed += counts["removed"]
        report.chunks_written += counts["chunks"]
        return prepared.size

    def prune(self, report: IngestReport) -> None:
        """Remove documents whose files no longer exist."""
        for source in self.store.sources():
            if not Path(source).exists():
                report.documents_removed += self.store.remove_source(source)


def supported_files_hint() -> str:
    return ", ".join(sorted(supported_suffixes()))
