"""`adaptlab compress`: the help explains every method; a wrong method name is one line, exit status 2."""

from __future__ import annotations

from typer.testing import CliRunner

from adaptlab.cli import main as cli_main
from adaptlab.compress.registry import METHODS
from conftest import run_cli

cli_main._register()


def test_help_lists_every_method() -> None:
    result = CliRunner().invoke(cli_main.app, ["compress", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert all(f"{name}:" in result.output for name in METHODS)


def test_unknown_method_is_a_one_line_error(workspace) -> None:
    result = run_cli("compress", "--methods", "int8,int4", "--tracking-uri", "none", timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: unknown compression method 'int4'; choose from {', '.join(METHODS)}"
    ]
