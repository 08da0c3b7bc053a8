"""`adaptlab registry` as a user runs it: register with metrics, a refused promotion is one line and exit 2,
--force overrides it, rollback restores the previous champion and the history keeps every step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli

pytestmark = pytest.mark.slow


def test_register_gate_force_rollback_list(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    first = run_cli(
        "registry",
        "register",
        "minilm",
        "--metric",
        "fixture/ndcg@10=0.50",
        "--alias",
        "champion",
        "--workspace",
        ws,
    )
    assert first.returncode == 0, first.stderr
    assert "registered embedder v1" in first.stdout and "embedder@champion → v1" in first.stdout
    from adaptlab.registry.store import ModelRegistry
    from adaptlab.workspace import Workspace

    registry = ModelRegistry(Workspace.resolve(ws))
    registry.register(
        "embedder", "minilm", "minilm", {"fixture/ndcg@10": 0.40}, "ndcg@10", {"base_model": "minilm"}
    )
    refused = run_cli("registry", "promote", "2", "--workspace", ws)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "quality gate: v2 scores ndcg@10 0.4000 < champion v1 0.5000" in lines[0]
    assert "Traceback" not in refused.stderr
    registry.promote("embedder", "2", force=True)
    assert registry.rollback("embedder") == ("2", "1")
    from typer.testing import CliRunner

    from adaptlab.cli.main import _register, app

    _register()  # `list` in-process: the subprocess start-up (MLflow import) is what the calls above test
    listed = CliRunner().invoke(app, ["registry", "list", "--history", "--json", "--workspace", ws])
    assert listed.exit_code == 0, listed.output
    payload = json.loads(listed.output)
    by_version = {v["version"]: v for v in payload["versions"]}
    assert by_version["1"]["aliases"] == ["champion"] and by_version["2"]["aliases"] == []
    assert by_version["1"]["lineage"]["base_model"] == "minilm" and by_version["1"]["run_id"]
    assert [e["action"] for e in payload["history"]] == [
        "register",
        "promote",
        "register",
        "promote",
        "rollback",
    ]
    table = CliRunner().invoke(app, ["registry", "list", "--workspace", ws])
    assert table.exit_code == 0 and "fixture 0.500" in table.output
