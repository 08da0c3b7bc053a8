"""Shared fixtures: a fresh workspace per test, the CLI as a real subprocess, the shared data folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adaptlab.datasets import data_root

FIXTURES = Path(__file__).parent / "fixtures"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ws"
    monkeypatch.setenv("ADAPTLAB_WORKSPACE", str(path))
    return path


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    """A copy of the small document fixtures (tests may edit and delete files)."""
    target = tmp_path / "docs"
    shutil.copytree(FIXTURES / "docs", target)
    return target


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = data_root()
    if root is None:
        pytest.skip("../shared/data not found (set ADAPTLAB_DATA)")
    return root


def write_topic_pairs(path: Path) -> Path:
    """40 labelled pairs, 4 per energy topic and each its own document: enough for a 50 % held-out split
    to keep 10+ pairs (calibrations need that many)."""
    import json

    topics = ["Windenergie", "Solarstrom", "Netzanschluss", "Speicher", "Wärmepumpe", "Wasserstoff", "Biogas",
              "Netzentgelt", "Einspeisung", "Direktvermarktung"]
    rows = [{"query": f"{t} Regel {i}", "positive": f"Vorschrift {i} über {t}: der Betreiber meldet die Anlage "
             f"und zahlt das Entgelt nach Absatz {i}.", "doc_id": f"law-{t}-{i}"} for t in topics for i in range(4)]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The real `adaptlab` command in a subprocess: exit codes and stderr exactly as a user sees them."""
    return subprocess.run(
        [sys.executable, "-m", "adaptlab", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory):
    """Base URL of a real uvicorn server over the fixture corpus (MiniLM, extractive answers), shared by
    the API and browser tests because building its workspace costs most of their time."""
    pytest.importorskip("fastapi", reason="needs the serve extra: pip install -e '.[serve]'")
    from integration.serve_server import build_workspace, running_server

    workspace = build_workspace(tmp_path_factory.mktemp("served"))
    with running_server(workspace) as base:
        yield base
