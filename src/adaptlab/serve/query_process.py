"""Query encoding in a child process, so the server's HTTP thread and the encoder do not share one GIL.

An eager PyTorch forward releases the GIL around each of its ~150 operators and must take it back after
each. In a server whose event loop wants the GIL too, every hand-back can wait a whole switch interval
(5 ms): measured with one busy Python thread beside it, a single MiniLM query took 860 ms instead of 10.
ONNX Runtime releases the GIL once per call and does not suffer this; PyTorch does. So the serving
process hands each batch of queries to a child that has its own interpreter, over a pipe (one send and
one receive per batch, ~50 us for 32 queries), and both cores do useful work. Queries are handed over
as their requests arrive (`prefetch`), so encoding overlaps the store worker's search of the batch before.

The child builds the encoder the same way the parent would (`Session.query_embedder`, from the same
workspace and `search:` settings), uses one thread, and exits when the pipe closes.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from adaptlab.errors import AdaptlabError
from adaptlab.models.base import Embedder

START_SECONDS = 300.0
"""How long the child may take to import and load its model before the server gives up."""
BATCH_LIMIT = 64
"""Queries per round trip to the child."""
PREFETCH_LIMIT = 1024
"""Prefetched queries kept for their search; the oldest are dropped past this."""


def _child(conn: Connection, workspace: str, config: dict[str, Any], model: str, threads: int) -> None:
    """The child's loop: build the query encoder, then answer each list of texts with ("ok", vectors) or
    ("error", line) until the pipe closes."""
    import torch

    from adaptlab.config import ExperimentConfig
    from adaptlab.pipeline import Session

    torch.set_num_threads(threads)
    try:
        session = Session.open(workspace, ExperimentConfig.model_validate(config), tracking_uri="none")
        encoder = session.query_embedder(model)
        conn.send(("ready", encoder.name, encoder.dim, encoder.max_seq_length))
    except Exception as exc:  # reported to the parent as one line
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    while True:
        try:
            texts = conn.recv()
        except (EOFError, OSError):  # the server closed the pipe or died
            return
        try:
            conn.send(("ok", encoder.encode_queries(texts)))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class EncoderProcessError(AdaptlabError):
    """The query encoder's child process failed: a server fault (503), not the request's."""


class QueryEncoderProcess(Embedder):
    """`model`'s query encoder running in a spawned child process.

    A pump thread sends whatever queries are waiting to the child as one batch and settles their
    futures. `prefetch(text)` queues a query as soon as its request arrives, so the child encodes the
    next batch while the store worker searches the previous one; `encode_queries` then collects the
    prefetched vectors (or queues what was not prefetched) in order. It encodes queries only: the
    serving process keeps its own model for `/embed` and uploads.
    """

    def __init__(self, workspace: str, config: dict[str, Any], model: str, threads: int = 1) -> None:
        self._args = (workspace, config, model, threads)
        self.model = model
        self.name = f"{model} (starting)"
        self.restarts = 0
        self._ready = False
        self._waiting: queue.SimpleQueue[tuple[str, Future[np.ndarray]] | None] = queue.SimpleQueue()
        self._prefetched: OrderedDict[str, Future[np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()
        self._pump_thread: threading.Thread | None = None
        self._spawn()

    def _spawn(self) -> None:
        context = multiprocessing.get_context("spawn")  # the server has threads: forking it is unsafe
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=_child, args=(child_conn, *self._args), name=f"adaptlab-queries-{self.model}", daemon=True
        )
        self._process.start()
        child_conn.close()

    def _handshake(self) -> None:
        """Wait for the child's "ready" (or its one-line error)."""
        if not self._conn.poll(START_SECONDS):
            self._stop_child()
            raise EncoderProcessError(
                f"query encoder process for '{self.model}' did not start in {START_SECONDS:.0f} s"
            )
        reply = self._receive()
        if reply[0] == "error":
            self._stop_child()
            raise EncoderProcessError(
                f"query encoder for '{self.model}' failed to load in its process: {reply[1]}"
            )
        _, name, self.dim, self.max_seq_length = reply
        self.name = f"{name} (own process)"

    def wait_ready(self) -> QueryEncoderProcess:
        """Block until the child has loaded its encoder (the parent loads its own models meanwhile)."""
        if self._ready:
            return self
        self._handshake()
        self._ready = True
        self._pump_thread = threading.Thread(
            target=self._pump, name=f"adaptlab-queries-{self.model}", daemon=True
        )
        self._pump_thread.start()
        return self

    def prefetch(self, text: str) -> Future[np.ndarray] | None:
        """Start encoding `text` now; a later `encode_queries` containing it picks the vector up.
        Returns the vector's future (shared by equal texts), or None before the child is ready."""
        with self._lock:
            if not self._ready:
                return None
            future = self._prefetched.get(text)
            if future is not None:
                return future
            future = self._prefetched[text] = Future()
            while len(self._prefetched) > PREFETCH_LIMIT:  # requests that never searched: cancelled, rewritten
                self._prefetched.popitem(last=False)
        self._waiting.put((text, future))
        return future

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        self.wait_ready()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        futures = []
        with self._lock:
            for text in texts:
                future = self._prefetched.pop(text, None)
                if future is None:
                    future = Future()
                    self._waiting.put((text, future))
                futures.append(future)
        return np.stack([future.result(timeout=START_SECONDS) for future in futures])

    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        raise AdaptlabError(f"the query encoder process for '{self.model}' encodes queries only")

    def _pump(self) -> None:
        """Send every waiting query to the child as one batch (at most BATCH_LIMIT) and settle them."""
        stop = False
        while not stop and (first := self._waiting.get()) is not None:
            batch = [first]
            while len(batch) < BATCH_LIMIT:
                try:
                    item = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if item is None:  # close(): answer what was taken, then stop
                    stop = True
                    break
                batch.append(item)
            self._settle(batch)

    def _settle(self, batch: list[tuple[str, Future[np.ndarray]]]) -> None:
        """One round trip for `batch`; each future gets its vector, or the batch's error (a 503)."""
        live = [(text, future) for text, future in batch if future.set_running_or_notify_cancel()]
        try:
            vectors = self._round_trip([text for text, _ in live])
        except Exception as exc:
            error = exc if isinstance(exc, EncoderProcessError) else EncoderProcessError(
                f"query encoder process for '{self.model}': {exc}"
            )
            for _, future in live:
                future.set_exception(error)
            return
        for (_, future), vector in zip(live, vectors):
            future.set_result(vector)

    def _round_trip(self, texts: list[str]) -> np.ndarray:
        """The child's vectors for `texts`; a child that died is started again once and asked again."""
        for attempt in (0, 1):
            try:
                self._conn.send(texts)
                status, payload = self._receive()
            except (OSError, EOFError, EncoderProcessError):
                if attempt or self._process.is_alive():
                    raise
                self.restarts += 1
                warnings.warn(
                    f"query encoder process for '{self.model}' died "
                    f"(exit code {self._process.exitcode}); starting it again",
                    stacklevel=2,
                )
                self._conn.close()
                self._spawn()
                self._handshake()
                continue
            if status != "ok":
                raise EncoderProcessError(f"query encoder process for '{self.model}': {payload}")
            return payload
        raise AssertionError("unreachable")

    def _receive(self) -> Any:
        try:
            return self._conn.recv()
        except (EOFError, OSError) as exc:
            self._process.join(timeout=1)
            code = self._process.exitcode
            raise EncoderProcessError(
                f"query encoder process for '{self.model}' stopped (exit code {code})"
            ) from exc

    def close(self) -> None:
        """Stop the pump, close the pipe (the child exits on its own) and reap the child."""
        if self._pump_thread is not None:
            self._waiting.put(None)
            self._pump_thread.join(timeout=10)
        self._stop_child()

    def _stop_child(self) -> None:
        self._conn.close()
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=5)
