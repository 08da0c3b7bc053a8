"""Entry point: assembles the command groups and turns user mistakes into one-line errors."""

from __future__ import annotations

import os
import sys

import typer

from adaptlab.errors import AdaptlabError

# Offline first: never let a library reach for the Hugging Face Hub behind the user's back.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# gRPC (Milvus' transport) logs harmless keepalive renegotiations ("too_many_pings") on long runs
os.environ.setdefault("GRPC_VERBOSITY", "NONE")

app = typer.Typer(
    name="adaptlab",
    help="Turn a folder of domain documents into evaluated, searchable embeddings, offline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    from adaptlab.cli import commands  # noqa: F401  (modules attach themselves to `app`)


def main() -> None:
    """Run the CLI; an AdaptlabError becomes `error: <message>` and exit status 2."""
    _register()
    try:
        code = app(standalone_mode=False)  # click returns an Exit's code instead of raising it here
        if isinstance(code, int) and code:
            sys.exit(code)
    except AdaptlabError as exc:
        from adaptlab.cli.common import err_console

        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        from adaptlab.cli.common import err_console

        err_console.print("interrupted; re-run the same command to resume")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors arrive here in standalone_mode=False
        if isinstance(exc, _usage_errors()):
            exc.show()
            sys.exit(exc.exit_code)
        raise


def _usage_errors() -> tuple[type[Exception], ...]:
    """Click's usage-error class, and typer's vendored copy of it (typer ≥ 0.2x ships its own click)."""
    import click

    classes: list[type[Exception]] = [click.exceptions.ClickException]
    try:
        from typer._click.exceptions import ClickException as VendoredClickException
    except ImportError:
        pass
    else:
        classes.append(VendoredClickException)
    return tuple(classes)
