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


def test_bad_ensemble_weights_are_one_line_errors(workspace) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("finetune", "--method", "adapter", "--ensemble", "e5-small", "--ensemble-weights", "best",
                     "--tracking-uri", "none")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--ensemble-weights: 'best' is neither 'auto' nor comma-separated numbers" in result.stderr
    result = run_cli("finetune", "--method", "adapter", "--ensemble", "e5-small", "--ensemble-weights", "1",
                     "--tracking-uri", "none")
    assert result.returncode == 2 and "ensemble_weights: one weight for the base and each" in result.stderr


def test_ensemble_weights_flag_takes_auto_or_numbers() -> None:
    from adaptlab.cli.finetune import _ensemble_weights

    assert _ensemble_weights(None) is None and _ensemble_weights("auto") == "auto"
    assert _ensemble_weights("1, 0.5") == [1.0, 0.5]
