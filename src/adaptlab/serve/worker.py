"""One thread owns the workspace's stores; searches that arrive together are answered together.

SQLite connections belong to the thread that opened them and Milvus Lite is one local process per data
folder, so every call that touches the corpus or the vectors runs on this thread, in arrival order.
Searches queued behind each other are grouped by their settings and run through `search_many`, one
model call and one Milvus call per group: encoding thirty-two queries costs little more than one, so
under load throughput grows with the batch instead of a queue forming per request, while a lone
request waits for nothing.
"""

from __future__ import annotations

import queue
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from adaptlab.retrieval.dense import SearchHit

T = TypeVar("T")
Key = tuple[str, str, int, str | None]
"""(model, mode, k, filter): searches with equal keys share one call."""
SearchMany = Callable[[Key, list[str]], list[list[SearchHit]]]


@dataclass
class _Search:
    key: Key
    query: str
    future: Future[list[SearchHit]]


@dataclass
class _Job:
    fn: Callable[[], Any]
    future: Future[Any]


class StoreWorker:
    """Runs jobs and batched searches (`search_many(key, queries)`, at most `max_batch`) on one thread."""

    def __init__(self, search_many: SearchMany, max_batch: int = 64) -> None:
        self.search_many = search_many
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Search | _Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="adaptlab-store", daemon=True)
        self._thread.start()

    def search(self, key: Key, query: str) -> Future[list[SearchHit]]:
        future: Future[list[SearchHit]] = Future()
        self._queue.put(_Search(key, query, future))
        return future

    def search_after(self, ready: Future[Any], key: Key, query: str) -> Future[list[SearchHit]]:
        """`search`, queued only once `ready` is done (the query's vector, encoded in another process).

        Queued earlier, the search would join a batch whose other queries' vectors are ready and hold it,
        and this thread, until its own vector came back: a batch's searches would all wait for the
        slowest encode. Queued this way a batch holds only searches whose vectors are ready."""
        future: Future[list[SearchHit]] = Future()

        def queue_search(_: Future[Any]) -> None:
            if future.cancelled():  # the request gave up meanwhile
                return
            self._queue.put(_Search(key, query, future))

        ready.add_done_callback(queue_search)
        return future

    def run(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put(_Job(fn, future))
        return future

    def close(self) -> None:
        """Finish what is queued, then stop."""
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        item = self._queue.get()
        while item is not None:
            if isinstance(item, _Job):
                _settle(item.future, item.fn)
                item = self._queue.get()
                continue
            batch, item = self._collect(item)
            groups: dict[Key, list[_Search]] = defaultdict(list)
            for search in batch:
                groups[search.key].append(search)
            for key, searches in groups.items():
                self._answer(key, searches)
            if item is False:
                item = self._queue.get()

    def _collect(self, first: _Search) -> tuple[list[_Search], _Job | None | bool]:
        """`first` and the searches queued behind it; the item that ended the batch (False: none)."""
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if not isinstance(item, _Search):
                return batch, item
            batch.append(item)
        return batch, False

    def _answer(self, key: Key, searches: list[_Search]) -> None:
        live = [s for s in searches if s.future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = self.search_many(key, [s.query for s in live])
        except Exception as exc:  # the same settings fail for every search in the group
            for search in live:
                search.future.set_exception(exc)
            return
        for search, hits in zip(live, results):
            search.future.set_result(hits)


def _settle(future: Future[Any], fn: Callable[[], Any]) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(fn())
    except Exception as exc:
        future.set_exception(exc)
