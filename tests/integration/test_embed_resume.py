"""kill -9 in the middle of `adaptlab embed`, then embed again: every chunk has exactly one vector."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import adaptlab
from conftest import run_cli

pytestmark = pytest.mark.slow


def _embedded(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM embedded").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_kill_9_during_embed_then_resume(workspace: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(20):
        sentences = " ".join(f"Die Anlage {i}-{j} speist {j * 7} Kilowatt in das Netz ein." for j in range(150))
        (docs / f"bericht_{i}.txt").write_text(sentences, encoding="utf-8")
    config = tmp_path / "small-blocks.yaml"
    config.write_text("chunking: {unit: words, size: 30, overlap: 0}\nembed: {block_size: 32}\n", "utf-8")
    assert run_cli("ingest", str(docs), "--config", str(config), "--tracking-uri", "none").returncode == 0

    proc = subprocess.Popen(
        [sys.executable, "-m", "adaptlab", "embed", "--config", str(config), "--tracking-uri", "none"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while _embedded(workspace / "corpus.sqlite") < 96 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "embed finished before it could be killed"

    resumed = run_cli("embed", "--config", str(config), "--tracking-uri", "none", "--json")
    assert resumed.returncode == 0, resumed.stderr

    with adaptlab.open_session(str(workspace), tracking_uri="none") as session:
        chunk_ids = {r.chunk_id for r in session.store.iter_chunks()}
        collection = session.store.collections()[0]["name"]
        assert session.vectors.count(collection) == len(chunk_ids) >= 1000
        assert session.vectors.all_ids(collection) == chunk_ids
