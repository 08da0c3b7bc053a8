"""What the server saw and what users said: searches and feedback in `<workspace>/serving/serving.sqlite`.

Every search is logged with its variant, model version, latency and top score, and gets a `request_id`;
feedback (a click on a hit, a 1–5 rating) names that id, so clicks and ratings are attributed to the arm
that produced the results. Rows go through one writer thread in batches: a request only appends to a
queue, and a commit per request would cost more than the search on a busy server.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

log = logging.getLogger("adaptlab.serve")

SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
  request_id TEXT PRIMARY KEY, at REAL NOT NULL, session TEXT, variant TEXT, version TEXT, model TEXT,
  endpoint TEXT, mode TEXT, query TEXT, latency_ms REAL, top_score REAL, hits INTEGER);
CREATE INDEX IF NOT EXISTS searches_at ON searches(at);
CREATE TABLE IF NOT EXISTS feedback (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, request_id TEXT NOT NULL, session TEXT,
  variant TEXT, kind TEXT NOT NULL, chunk_id TEXT, rank INTEGER, rating REAL);
CREATE INDEX IF NOT EXISTS feedback_request ON feedback(request_id);
"""
SEARCH_COLUMNS = (
    "request_id",
    "at",
    "session",
    "variant",
    "version",
    "model",
    "endpoint",
    "mode",
    "query",
    "latency_ms",
    "top_score",
    "hits",
)
FEEDBACK_COLUMNS = ("at", "request_id", "session", "variant", "kind", "chunk_id", "rank", "rating")


def log_path(workspace_root: Path) -> Path:
    return Path(workspace_root) / "serving" / "serving.sqlite"


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(SCHEMA)
    return conn


class ServingLog:
    """Append-only log of searches and feedback, written by a background thread."""

    def __init__(self, path: Path, remember: int = 100_000) -> None:
        self.path = path
        self._queue: queue.SimpleQueue[tuple[str, tuple[Any, ...]] | threading.Event | None] = (
            queue.SimpleQueue()
        )
        self._variants: OrderedDict[str, str] = OrderedDict()
        self._remember = remember
        self._lock = threading.Lock()
        connect(path).close()  # a bad path fails at start, not in the writer thread
        self._thread = threading.Thread(target=self._run, name="adaptlab-serving-log", daemon=True)
        self._thread.start()

    def search(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._variants[row["request_id"]] = row.get("variant") or ""
            while len(self._variants) > self._remember:
                self._variants.popitem(last=False)
        self._queue.put(("searches", tuple(row.get(c) for c in SEARCH_COLUMNS)))

    def variant_of(self, request_id: str) -> str | None:
        """The arm that answered a recent request (None when unknown to this process)."""
        with self._lock:
            return self._variants.get(request_id) or None

    def feedback(self, row: dict[str, Any]) -> None:
        self._queue.put(("feedback", tuple(row.get(c) for c in FEEDBACK_COLUMNS)))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is committed."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        conn = connect(self.path)
        stop = False
        while not stop:
            items = [self._queue.get()]
            while len(items) < 1000:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            rows: dict[str, list[tuple[Any, ...]]] = {"searches": [], "feedback": []}
            waiting: list[threading.Event] = []
            for item in items:
                if item is None:
                    stop = True
                elif isinstance(item, threading.Event):
                    waiting.append(item)
                else:
                    rows[item[0]].append(item[1])
            try:
                with conn:
                    if rows["searches"]:
                        marks = ",".join("?" * len(SEARCH_COLUMNS))
                        conn.executemany(f"INSERT OR IGNORE INTO searches VALUES ({marks})", rows["searches"])
                    if rows["feedback"]:
                        conn.executemany(
                            f"INSERT INTO feedback ({','.join(FEEDBACK_COLUMNS)}) VALUES "
                            f"({','.join('?' * len(FEEDBACK_COLUMNS))})",
                            rows["feedback"],
                        )
            except sqlite3.Error as exc:  # logging must never take the server down
                log.warning("serving log: could not write %d rows (%s)", sum(map(len, rows.values())), exc)
            for event in waiting:
                event.set()
            if not stop:
                time.sleep(0.05)  # let a burst accumulate into one transaction
        conn.close()


def variant_summary(path: Path, since: float | None = None) -> list[dict[str, Any]]:
    """Per variant: searches, latency p50/p95, mean top score, clicks, click-through rate, mean rating."""
    if not path.is_file():
        return []
    conn = connect(path)
    try:
        where, args = ("WHERE at >= ?", (since,)) if since else ("", ())
        rows = conn.execute(
            f"SELECT COALESCE(variant, 'none'), COALESCE(version, ''), latency_ms, top_score, request_id "
            f"FROM searches {where}",
            args,
        ).fetchall()
        feedback = conn.execute(
            "SELECT COALESCE(f.variant, s.variant, 'none'), f.kind, f.rating, f.request_id FROM feedback f "
            "LEFT JOIN searches s ON s.request_id = f.request_id"
        ).fetchall()
    finally:
        conn.close()
    groups: dict[str, dict[str, Any]] = {}
    for variant, version, latency, score, _ in rows:
        g = groups.setdefault(variant, {"variant": variant, "versions": set(), "latency": [], "scores": []})
        g["versions"].add(version)
        g["latency"].append(latency or 0.0)
        if score is not None:
            g["scores"].append(score)
    clicks: dict[str, set[str]] = {}
    ratings: dict[str, list[float]] = {}
    for variant, kind, rating, request_id in feedback:
        if kind == "click":
            clicks.setdefault(variant, set()).add(request_id)
        elif rating is not None:
            ratings.setdefault(variant, []).append(rating)
    out = []
    for variant, g in sorted(groups.items()):
        latency = sorted(g["latency"])
        n = len(latency)
        out.append(
            {
                "variant": variant,
                "versions": sorted(v for v in g["versions"] if v),
                "searches": n,
                "latency_p50_ms": latency[n // 2] if n else None,
                "latency_p95_ms": latency[min(n - 1, int(0.95 * n))] if n else None,
                "mean_top_score": sum(g["scores"]) / len(g["scores"]) if g["scores"] else None,
                "clicked_searches": len(clicks.get(variant, ())),
                "ctr": len(clicks.get(variant, ())) / n if n else None,
                "ratings": len(ratings.get(variant, [])),
                "mean_rating": sum(ratings[variant]) / len(ratings[variant])
                if ratings.get(variant)
                else None,
            }
        )
    return out
