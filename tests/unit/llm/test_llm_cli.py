"""Every `adaptlab llm` command explains itself, and the CLI module stays light (no torch on import)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from adaptlab.cli import main as cli_main

cli_main._register()
COMMANDS = ["generate", "prepare", "sft", "dpo", "eval", "merge", "export", "chat", "run"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command: str) -> None:
    result = CliRunner().invoke(cli_main.app, ["llm", command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_training_flags_carry_the_config_help() -> None:
    result = CliRunner().invoke(cli_main.app, ["llm", "sft", "--help"], env={"COLUMNS": "200"})
    assert (
        "LoRA rank." in result.output and "--target-modules" in result.output and "--qlora" in result.output
    )


def test_importing_the_cli_loads_no_ml_library() -> None:
    code = "import sys, adaptlab.cli.llm; print(sorted(m for m in ('torch', 'transformers', 'trl', 'peft') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
