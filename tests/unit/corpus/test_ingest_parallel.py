"""Preparing files in worker processes gives exactly what the single-process path gives."""

from __future__ import annotations

import sys
from pathlib import Path

from adaptlab.corpus.chunking import ChunkingConfig
from adaptlab.corpus.ingest import FilePreparer, IngestReport, Ingestor, file_digest, iter_files
from adaptlab.corpus.loaders.base import LoaderOptions
from adaptlab.corpus.prepare_pool import batches, prepare_in_order
from adaptlab.corpus.store import CorpusStore
from conftest import FIXTURES

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))


def _ingest(tmp: Path, workers: int, preparer: FilePreparer | None = None) -> tuple[IngestReport, set[tuple]]:
    store = CorpusStore(tmp / f"w{workers}-{type(preparer).__name__}.sqlite")
    report = IngestReport()
    files = list(iter_files([FIXTURES / "docs", FIXTURES / "mastr"], report))
    done: list[Path] = []
    preparer = preparer or FilePreparer(ChunkingConfig("words", 40, 5), LoaderOptions())
    # parallel_min_bytes=0: the fixtures are far below the size at which a pool starts by default
    Ingestor(store, preparer, parallel_min_bytes=0).ingest_files(
        files, report, workers=workers, on_file=done.append
    )
    assert sorted(done) == sorted(files)
    for text, words in store.conn.execute("SELECT text, n_words FROM chunks"):
        assert words == len(text.split())  # the chunker's count, stored without counting again
    rows = {(r.chunk_id, r.text, r.lang, r.heading, r.page) for r in store.iter_chunks()}
    return report, rows


def test_two_workers_store_the_same_chunks_as_one(tmp_path: Path) -> None:
    single, rows_single = _ingest(tmp_path, 1)
    parallel, rows_parallel = _ingest(tmp_path, 2)
    assert rows_single == rows_parallel and len(rows_single) > 10
    assert single.as_dict() == parallel.as_dict()
    assert sorted(single.warnings) == sorted(parallel.warnings)


def test_current_ingest_stores_what_the_previous_implementation_stored(tmp_path: Path) -> None:
    from ingest_reference import ReferencePreparer

    reference, rows_reference = _ingest(
        tmp_path, 1, ReferencePreparer(ChunkingConfig("words", 40, 5), LoaderOptions())
    )
    current, rows_current = _ingest(tmp_path, 1)
    assert rows_current == rows_reference and current.as_dict() == reference.as_dict()


def test_results_come_back_in_input_order_across_batches() -> None:
    preparer = FilePreparer(ChunkingConfig("words", 40, 5), LoaderOptions())
    jobs = [(p, *file_digest(p)) for p in sorted((FIXTURES / "docs").iterdir())]
    # batches of one or two files, so the next batch is queued while this process works on the current one
    batch_bytes = 700
    assert len(list(batches(jobs, batch_bytes))) >= 3
    expected = [preparer.prepare(*job) for job in jobs]
    got = list(prepare_in_order(preparer, jobs, workers=2, min_bytes=0, batch_bytes=batch_bytes))
    assert [p.path for p in got] == [p.path for p in expected]
    for a, b in zip(got, expected):
        assert a.skipped == b.skipped
        assert a.store_rows() == b.store_rows()  # ids, hashes, texts and word counts, worker or not


def test_batches_bound_the_input_bytes_and_keep_order() -> None:
    jobs = [(Path(f"f{i}"), "h", size) for i, size in enumerate([5, 5, 5, 20, 1, 1])]
    parts = list(batches(jobs, 10))
    assert [[j[2] for j in part] for part in parts] == [[5, 5], [5], [20], [1, 1]]
    assert [j for part in parts for j in part] == jobs


def test_a_pool_made_up_front_serves_several_runs_and_survives_an_interrupted_one() -> None:
    import threading

    from adaptlab.corpus.prepare_pool import PreparePool

    preparer = FilePreparer(ChunkingConfig("words", 40, 5), LoaderOptions())
    jobs = [(p, *file_digest(p)) for p in sorted((FIXTURES / "docs").iterdir())]
    expected = [preparer.prepare(*job).store_rows() for job in jobs]
    alone = threading.active_count() == 1  # in the full suite, earlier tests may leave threads running
    with PreparePool(preparer, workers=2) as pool:
        assert pool.forked is alone and pool.min_bytes == (1_000_000 if alone else 8_000_000)
        stopped = prepare_in_order(preparer, jobs, 2, min_bytes=0, batch_bytes=700, pool=pool)
        next(stopped)
        stopped.close()  # an interrupted run leaves the shared pool usable
        got = [p.store_rows() for p in prepare_in_order(preparer, jobs, 2, min_bytes=0, pool=pool)]
    assert got == expected


def test_the_pool_forks_only_while_no_other_python_thread_runs(monkeypatch) -> None:  # noqa: ANN001
    from adaptlab.corpus import prepare_pool

    monkeypatch.setattr(prepare_pool.sys, "platform", "linux")
    monkeypatch.setattr(prepare_pool.threading, "active_count", lambda: 1)
    assert prepare_pool.pool_context().get_start_method() == "fork"
    monkeypatch.setattr(prepare_pool.threading, "active_count", lambda: 2)  # a progress bar's thread
    assert prepare_pool.pool_context().get_start_method() == "spawn"
    monkeypatch.setattr(prepare_pool.threading, "active_count", lambda: 1)
    monkeypatch.setattr(prepare_pool.sys, "platform", "darwin")
    assert prepare_pool.pool_context().get_start_method() == "spawn"
