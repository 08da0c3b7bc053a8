"""The CLI as a user runs it (subprocesses): output, JSON, status, MLflow runs, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli

pytestmark = pytest.mark.slow


def test_ingest_embed_search_status_and_errors(workspace: Path, docs_dir: Path) -> None:
    missing = run_cli("search", "x")
    assert missing.returncode == 2 and "adaptlab embed" in missing.stderr and "Traceback" not in missing.stderr

    assert run_cli("ingest", str(docs_dir), "--chunk-unit", "tokens", "--chunk-model", "minilm").returncode in (0, 1)
    embed = run_cli("embed", "--model", "minilm", "--json")
    assert embed.returncode == 0, embed.stderr
    report = json.loads(embed.stdout)[0]
    assert report["vectors_in_collection"] == report["chunks_in_corpus"] > 0
    assert report["over_length"] == 0  # token chunks sized to the model: nothing truncated

    shown = run_cli("search", "Photovoltaik Sonnenlicht", "-k", "2")
    assert shown.returncode == 0 and "Photovoltaik" in shown.stdout and "records.jsonl" in shown.stdout

    bad = run_cli("search", "x", "--filter", "lang ==")
    assert bad.returncode == 2 and bad.stderr.startswith("error: bad filter") and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1

    status = json.loads(run_cli("status", "--json").stdout)
    assert status["collections"][0]["vectors"] == status["chunks"]
    assert {r["name"] for r in status["last_runs"]} >= {"ingest", "embed"}

    unknown = run_cli("embed", "--model", "nope")
    assert unknown.returncode == 2 and len(unknown.stderr.strip().splitlines()) == 1
