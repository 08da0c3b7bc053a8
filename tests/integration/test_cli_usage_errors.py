"""Usage mistakes (an unknown option, a missing argument) are click's short usage message, exit 2, no traceback."""

from conftest import run_cli


def test_unknown_option_and_missing_argument_are_usage_errors() -> None:
    unknown = run_cli("search", "--no-such-flag", "1", "Windenergie")
    assert unknown.returncode == 2 and "No such option: --no-such-flag" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    missing = run_cli("finetune-reranker", "--max-pairs")
    assert missing.returncode == 2 and "requires an argument" in missing.stderr and "Traceback" not in missing.stderr
