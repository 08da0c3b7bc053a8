"""Preparing files in worker processes while the main process prepares files too.

Within each batch the main process takes files from the front and the workers from the back, so
workers that are still starting (a spawned one imports the stack and loads the language models,
about 1 s) never hold the run up, and the two sides meet wherever their speeds put them. Results
come out in input order; the batch size bounds how many prepared files wait in memory for their turn.

Workers are forked where that is safe, which costs milliseconds and shares the language models
already loaded here. `PreparePool` forks them up front, so a caller can do that before it starts
threads of its own (a progress bar) that would rule fork out later.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adaptlab.corpus.ingest import FilePreparer, PreparedFile

Job = tuple[Path, str, int]  # path, sha256 of the bytes, size in bytes

# Below this much input one process is done before a spawned worker has started (benchmark: break-even).
PARALLEL_MIN_BYTES = 8_000_000
# A forked worker starts in milliseconds with the models already loaded: worth it from ~0.2 s of work.
FORKED_MIN_BYTES = 1_000_000
BATCH_BYTES = 32_000_000
# Files go to a worker in tasks of about this much input (~50 ms of work). One file per task starved the
# worker: the executor's feeding thread, here, waits up to a GIL switch interval (5 ms) behind this
# process's own preparing, about as long as a small file takes, and a worker holds only two tasks.
TASK_BYTES = 256_000

_WORKER: FilePreparer | None = None


def _init_worker(preparer: FilePreparer) -> None:
    global _WORKER
    _WORKER = preparer


def _prepare_in_worker(jobs: list[Job]) -> list[PreparedFile]:
    assert _WORKER is not None
    return [_WORKER.prepare(*job) for job in jobs]


def _noop() -> None:
    return None


def pool_context() -> BaseContext:
    """fork on Linux while no other Python thread runs (none can hold a lock across the fork: no rich
    refresh thread, no MLflow logger), else spawn. Native pools are fork-aware: OpenBLAS stops its
    threads around a fork, and tokenizers turns its parallelism off in a forked child."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class PreparePool:
    """`workers - 1` processes for `prepare_in_order`; forked now where `pool_context` allows it."""

    def __init__(self, preparer: FilePreparer, workers: int) -> None:
        from adaptlab.corpus.language import warm_up

        context = pool_context()
        self.forked = context.get_start_method() == "fork"
        if self.forked:
            warm_up(preparer.languages)  # loaded once here, shared by every forked worker
        self.executor = ProcessPoolExecutor(max(1, workers - 1), context, _init_worker, (preparer,))
        if self.forked:
            self.executor.submit(_noop).result()  # a fork pool forks all its workers on the first task

    @property
    def min_bytes(self) -> int:
        return FORKED_MIN_BYTES if self.forked else PARALLEL_MIN_BYTES

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> PreparePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def batches(jobs: Sequence[Job], max_bytes: int) -> Iterator[list[Job]]:
    """Consecutive runs of jobs of at most `max_bytes` input each (a bigger file is a batch of its own)."""
    batch: list[Job] = []
    size = 0
    for job in jobs:
        if batch and size + job[2] > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(job)
        size += job[2]
    if batch:
        yield batch


def prepare_in_order(
    preparer: FilePreparer,
    jobs: Sequence[Job],
    workers: int,
    min_bytes: int | None = None,
    batch_bytes: int = BATCH_BYTES,
    pool: PreparePool | None = None,
) -> Iterator[PreparedFile]:
    """Every job prepared, in input order, by this process plus `workers - 1` worker processes
    (those of `pool` when given; it stays open).

    One process does it all when `workers` is 1 or the jobs hold less than `min_bytes` of input
    (default: the pool's threshold, or the spawned one's).
    """
    if min_bytes is None:
        min_bytes = pool.min_bytes if pool is not None else PARALLEL_MIN_BYTES
    if workers <= 1 or len(jobs) < 2 or sum(job[2] for job in jobs) < min_bytes:
        for job in jobs:
            yield preparer.prepare(*job)
        return
    if pool is not None:
        yield from _prepare_with(pool.executor, preparer, jobs, batch_bytes)
        return
    executor = ProcessPoolExecutor(min(workers - 1, len(jobs) - 1), pool_context(), _init_worker, (preparer,))
    try:
        yield from _prepare_with(executor, preparer, jobs, batch_bytes)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _prepare_with(
    pool: ProcessPoolExecutor, preparer: FilePreparer, jobs: Sequence[Job], batch_bytes: int
) -> Iterator[PreparedFile]:
    futures: list[Future[list[PreparedFile]]] = []
    pending: list[Future[list[PreparedFile]]] = []
    try:
        parts = [list(batches(batch, TASK_BYTES)) for batch in batches(jobs, batch_bytes)]
        pending = _submit_backwards(pool, parts[0])
        for index, tasks in enumerate(parts):
            futures = pending
            # the next batch is queued now, so workers that finish their end of this one go straight on
            pending = _submit_backwards(pool, parts[index + 1]) if index + 1 < len(parts) else []
            for task, future in zip(tasks, futures):
                if future.cancel():  # not started by a worker: this process takes it
                    for job in task:
                        yield preparer.prepare(*job)
                else:
                    yield from future.result()
    finally:
        for future in futures + pending:  # stopped early: what is queued on a shared pool must not run on
            future.cancel()


def _submit_backwards(pool: ProcessPoolExecutor, tasks: list[list[Job]]) -> list[Future[list[PreparedFile]]]:
    """Submit the tasks last first: workers start at the batch's end while this process starts at the front."""
    futures = [pool.submit(_prepare_in_worker, task) for task in reversed(tasks)]
    return futures[::-1]
