"""Drift detection inside the server: every `window` queries are embedded and tested off the request path.

The first full window becomes the reference when none was set (`adaptlab monitor reference` sets one from
known-good queries). Each tested window is appended to the workspace history, exported as metrics, and an
alert is logged when it drifts.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

from adaptlab.monitor.drift import DriftDetector, Reference, query_languages
from adaptlab.monitor.history import REFERENCE_FILE, append_window, monitor_dir
from adaptlab.workspace import Workspace

log = logging.getLogger("adaptlab.monitor")


@dataclass(frozen=True)
class DriftOptions:
    window: int = 200
    model: str = "minilm"
    alpha: float = 0.01
    permutations: int = 500


class OnlineDrift:
    """Collects queries; a background thread tests each full window. `observe` never blocks on a test."""

    def __init__(self, options: DriftOptions, workspace: Workspace, metrics: Any | None = None) -> None:
        self.options = options
        self.workspace = workspace
        self.metrics = metrics
        self.reference_path = monitor_dir(workspace.root) / REFERENCE_FILE
        self._buffer: list[str] = []
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._detector: DriftDetector | None = None
        self.results: list[dict[str, Any]] = []
        self.pending = 0

    def start(self) -> None:
        if self.reference_path.is_file():
            self._detector = DriftDetector(
                Reference.load(self.reference_path), self.options.alpha, self.options.permutations
            )
        self._thread = threading.Thread(target=self._run, name="adaptlab-drift", daemon=True)
        self._thread.start()

    def observe(self, query: str) -> None:
        with self._lock:
            self._buffer.append(query)
            if len(self._buffer) < self.options.window:
                return
            window, self._buffer = self._buffer, []
            self.pending += 1
        self._queue.put(window)

    def close(self) -> None:
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=120)

    def _run(self) -> None:
        from adaptlab.train.model_store import load_model

        embedder = None
        while (window := self._queue.get()) is not None:
            try:
                embedder = embedder or load_model(self.workspace, self.options.model)
                self._test(window, embedder)
            except Exception as exc:  # monitoring must not take serving down
                log.warning("drift: window of %d queries not tested (%s)", len(window), exc)
            finally:
                with self._lock:
                    self.pending -= 1

    def _test(self, window: list[str], embedder: Any) -> None:
        vectors = embedder.encode_queries(window)
        langs = query_languages(window)
        if self._detector is None:
            reference = Reference(vectors, langs, self.options.model, time.time())
            reference.save(self.reference_path)
            self._detector = DriftDetector(reference, self.options.alpha, self.options.permutations)
            log.warning(
                "drift: the first %d queries are now the reference window (%s)",
                len(window),
                self.reference_path,
            )
            return
        result = self._detector.test(vectors, langs, label="serve").as_dict()
        append_window(self.workspace.root, result)
        self.results.append(result)
        if self.metrics is not None:
            self.metrics.drift_windows.inc()
            self.metrics.drift_statistic.set(result["mmd2"])
            self.metrics.drift_p_value.set(result["p_value"])
            self.metrics.drift_lang_p_value.set(result["language_p_value"])
            for kind in result["kinds"]:
                self.metrics.drift_alerts.labels(kind).inc()
        if result["drift"]:
            log.warning(
                "drift ALERT (%s): MMD² %.4f p=%.4f, language p=%.4f, languages %s",
                ", ".join(result["kinds"]),
                result["mmd2"],
                result["p_value"],
                result["language_p_value"],
                result["languages"],
            )
