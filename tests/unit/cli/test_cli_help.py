"""Every command explains itself."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from adaptlab.cli import main as cli_main

cli_main._register()
COMMANDS = [[], ["ingest"], ["embed"], ["search"], ["eval"], ["eval", "retrieval"], ["eval", "convert-xquad"],
            ["status"], ["run"], ["demo"], ["models"], ["models", "list"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "adaptlab")
def test_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli_main.app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and len(result.output.splitlines()) > 5
