"""`adaptlab finetune` explains itself and rejects bad flags in one line."""

from typer.testing import CliRunner

from adaptlab.cli import main as cli_main
from conftest import run_cli

cli_main._register()


def test_finetune_help_lists_the_choices() -> None:
    result = CliRunner().invoke(cli_main.app, ["finetune", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for flag in ("--base", "--method", "--objective", "--pairs", "--eval", "--output", "distill-parallel"):
        assert flag in result.output


def test_bad_method_is_a_one_line_error(workspace) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("finetune", "--method", "lora", "--tracking-uri", "none")
    assert result.returncode == 2
    assert "error: --method" in result.stderr and "Traceback" not in result.stderr
