"""The store worker: one thread, searches queued together answered in one call, errors per group."""

from __future__ import annotations

import threading

import pytest

from adaptlab.serve.worker import Key, StoreWorker


def test_queued_searches_are_batched_by_key_on_one_thread() -> None:
    calls: list[tuple[Key, list[str]]] = []
    threads: set[int] = set()
    entered, gate = threading.Event(), threading.Event()

    def search_many(key: Key, queries: list[str]) -> list[list]:
        threads.add(threading.get_ident())
        entered.set()
        gate.wait(5)  # hold the first batch so the next requests queue up behind it
        calls.append((key, queries))
        return [[q] for q in queries]

    worker = StoreWorker(search_many)
    first = worker.search(("m", "dense", 5, None), "a")
    assert entered.wait(5)
    dense = [worker.search(("m", "dense", 5, None), q) for q in "bcd"]
    bm25 = worker.search(("m", "bm25", 5, None), "e")
    gate.set()
    assert first.result(5) == ["a"] and [f.result(5) for f in dense] == [["b"], ["c"], ["d"]]
    assert bm25.result(5) == ["e"]
    assert len(threads) == 1
    assert (("m", "dense", 5, None), ["b", "c", "d"]) in calls  # one call for the three queued together
    assert worker.run(lambda: threading.get_ident()).result(5) in threads  # jobs share the thread
    worker.close()


def test_an_error_fails_only_its_group() -> None:
    def search_many(key: Key, queries: list[str]) -> list[list]:
        if key[3] == "bad":
            raise ValueError("bad filter")
        return [[] for _ in queries]

    worker = StoreWorker(search_many)
    bad = worker.search(("m", "dense", 5, "bad"), "q")
    good = worker.search(("m", "dense", 5, None), "q")
    with pytest.raises(ValueError, match="bad filter"):
        bad.result(5)
    assert good.result(5) == []
    worker.close()


def test_a_search_after_its_vector_joins_the_queue_only_once_the_vector_is_done() -> None:
    from concurrent.futures import Future

    calls: list[list[str]] = []
    worker = StoreWorker(lambda key, queries: calls.append(queries) or [[q] for q in queries])
    key: Key = ("m", "dense", 5, None)
    slow, fast = Future(), Future()
    waiting = worker.search_after(slow, key, "slow")
    ready = worker.search_after(fast, key, "fast")
    fast.set_result("vector")
    assert ready.result(5) == ["fast"]
    assert not waiting.done() and calls == [["fast"]]  # the slow query held nobody
    slow.set_result("vector")
    assert waiting.result(5) == ["slow"]

    cancelled = Future()
    given_up = worker.search_after(cancelled, key, "gone")
    given_up.cancel()
    cancelled.set_result("vector")
    assert worker.run(lambda: list(calls)).result(5) == [["fast"], ["slow"]]  # never searched
    worker.close()
