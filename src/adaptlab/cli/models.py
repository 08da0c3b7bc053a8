"""`adaptlab models ...`: what the zoo holds, what is installed, and how to install the rest."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from adaptlab.cli.common import console
from adaptlab.cli.main import app
from adaptlab.models.registry import LLM_ZOO, ZOO, LLMSpec, ModelSpec, get_spec, is_installed

models_app = typer.Typer(
    help="The offline model zoo: list models, check what is installed, show install commands.",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")


def _languages(spec: ModelSpec | LLMSpec) -> str:
    return ", ".join("multi" if lang == "multilingual" else lang for lang in spec.languages) or "-"


def _row(spec: ModelSpec | LLMSpec) -> dict[str, object]:
    return {**spec.to_dict(), "installed": is_installed(spec)}


@models_app.command("list")
def list_models(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list the small LLMs used by sft/dpo.")
    ] = False,
) -> None:
    """List every zoo model with its size, languages and whether it is installed."""
    specs: list[ModelSpec | LLMSpec] = [*ZOO.values(), *(LLM_ZOO.values() if show_all else ())]
    rows = [_row(spec) for spec in specs]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(title="adaptlab model zoo", box=box.SIMPLE_HEAD)
    columns = ["name", *(["kind"] if show_all else []), "backend", "dim", "max len", "lang", "MB", "ok"]
    for column in columns:
        # Only the long words fold, so numbers and names stay whole in an 80-column terminal.
        folds = column in ("kind", "backend")
        numeric = column in ("dim", "max len", "MB")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=not folds, overflow="fold")
    for spec, row in zip(specs, rows):
        cells = {
            "name": str(row["name"]),
            "kind": str(row["kind"]),
            "backend": str(row["backend"]),
            "dim": str(row["dim"] or "-"),
            "max len": str(row["max_seq_length"] or "-"),
            "lang": _languages(spec),
            "MB": f"{row['size_mb']:.0f}",
            "ok": "[green]✓[/green]" if row["installed"] else "[red]✗[/red]",
        }
        table.add_row(*(cells[column] for column in columns))
    console.print(table)
    missing = [spec for spec, row in zip(specs, rows) if not row["installed"]]
    if missing:
        console.print("not installed (✗); install with:", highlight=False)
        for spec in missing:
            # soft_wrap keeps each command on one line so it can be copied as is
            console.print(f"  {spec.name}: {spec.install}", highlight=False, soft_wrap=True, markup=False)


@models_app.command("info")
def info(
    name: Annotated[str, typer.Argument(help="Zoo name (e.g. minilm) or a local model folder.")],
) -> None:
    """Show everything the registry knows about one model (nothing is loaded)."""
    spec: ModelSpec | LLMSpec = LLM_ZOO[name] if name in LLM_ZOO else get_spec(name)
    row = _row(spec)
    for key, value in row.items():
        if value in (None, "", []):
            continue
        shown = ", ".join(value) if isinstance(value, list) else value  # type: ignore[arg-type]
        console.print(f"[bold]{key}[/bold]: {shown}", highlight=False, soft_wrap=True)
    if not row["installed"] and spec.install:
        console.print(f"install with: {spec.install}", highlight=False, soft_wrap=True)
