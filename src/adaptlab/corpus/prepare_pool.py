"""Preparing files in worker processes while the main process prepares files too.

Within each batch the main process takes files from the front and the workers from the back, so
workers that are still starting (a spawned one imports the stack and loads the language models,
about 1.5 s) never hold the run up, and the two sides meet wherever their speeds put them. Results
come out in input order; the batch size bounds how many prepared files wait in memory for their turn.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
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
BATCH_BYTES = 32_000_000

_WORKER: FilePreparer | None = None


def _init_worker(preparer: FilePreparer) -> None:
    global _WORKER
    _WORKER = preparer


def _prepare_in_worker(job: Job) -> PreparedFile:
    assert _WORKER is not None
    return _WORKER.prepare(*job)


def pool_context() -> BaseContext:
    """fork when this process runs a single OS thread (no other thread can hold a lock across the fork:
    no rich refresh thread, no tokenizer or BLAS pool), else spawn."""
    if sys.platform.startswith("linux"):
        try:
            if len(os.listdir("/proc/self/task")) == 1:
                return multiprocessing.get_context("fork")
        except OSError:
            pass
    return multiprocessing.get_context("spawn")


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
    min_bytes: int = PARALLEL_MIN_BYTES,
    batch_bytes: int = BATCH_BYTES,
) -> Iterator[PreparedFile]:
    """Every job prepared, in input order, by this process plus `workers - 1` worker processes.

    One process does it all when `workers` is 1 or the jobs hold less than `min_bytes` of input.
    """
    if workers <= 1 or len(jobs) < 2 or sum(job[2] for job in jobs) < min_bytes:
        for job in jobs:
            yield preparer.prepare(*job)
        return
    pool = ProcessPoolExecutor(min(workers - 1, len(jobs) - 1), pool_context(), _init_worker, (preparer,))
    try:
        parts = list(batches(jobs, batch_bytes))
        pending = _submit_backwards(pool, parts[0])
        for index, batch in enumerate(parts):
            futures = pending
            # the next batch is queued now, so workers that finish their end of this one go straight on
            pending = _submit_backwards(pool, parts[index + 1]) if index + 1 < len(parts) else []
            for job, future in zip(batch, futures):
                yield preparer.prepare(*job) if future.cancel() else future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _submit_backwards(pool: ProcessPoolExecutor, batch: list[Job]) -> list[Future[PreparedFile]]:
    """Submit the batch last job first: workers start at its end while this process starts at the front."""
    futures: list[Future[PreparedFile]] = [pool.submit(_prepare_in_worker, job) for job in reversed(batch)]
    return futures[::-1]
