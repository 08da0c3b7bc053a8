"""Preparing files in worker processes gives exactly what the single-process path gives."""

from __future__ import annotations

from pathlib import Path

from adaptlab.corpus.chunking import ChunkingConfig
from adaptlab.corpus.ingest import FilePreparer, IngestReport, Ingestor, iter_files
from adaptlab.corpus.loaders.base import LoaderOptions
from adaptlab.corpus.store import CorpusStore
from conftest import FIXTURES


def _ingest(tmp: Path, workers: int) -> tuple[IngestReport, set[str]]:
    store = CorpusStore(tmp / f"w{workers}.sqlite")
    report = IngestReport()
    files = list(iter_files([FIXTURES / "docs", FIXTURES / "mastr"], report))
    done: list[Path] = []
    preparer = FilePreparer(ChunkingConfig("words", 40, 5), LoaderOptions())
    Ingestor(store, preparer).ingest_files(files, report, workers=workers, on_file=done.append)
    assert sorted(done) == sorted(files)
    return report, {r.chunk_id for r in store.iter_chunks()}


def test_two_workers_store_the_same_chunks_as_one(tmp_path: Path) -> None:
    single, ids_single = _ingest(tmp_path, 1)
    parallel, ids_parallel = _ingest(tmp_path, 2)
    assert ids_single == ids_parallel and len(ids_single) > 10
    assert single.as_dict() == parallel.as_dict()
    assert sorted(single.warnings) == sorted(parallel.warnings)
