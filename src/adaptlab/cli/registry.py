"""`adaptlab registry`: register model versions with metrics and lineage, promote, roll back, list."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Optional

import typer
from rich.table import Table

from adaptlab.cli.common import TrackingOpt, WorkspaceOpt, console
from adaptlab.cli.main import app

registry_app = typer.Typer(
    help="Model registry (MLflow): versions, champion/challenger aliases, quality gate.", no_args_is_help=True
)
app.add_typer(registry_app, name="registry")

NameOpt = Annotated[str, typer.Option("--name", "-n", help="Registered model name.")]


def _registry(workspace, tracking_uri):
    from adaptlab.registry.store import ModelRegistry
    from adaptlab.workspace import Workspace

    return ModelRegistry(Workspace.resolve(workspace), tracking_uri)


def _when(ms_or_s: float) -> str:
    seconds = ms_or_s / 1000 if ms_or_s > 1e11 else ms_or_s
    return dt.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")


@registry_app.command("register")
def register_command(
    model: Annotated[
        str, typer.Argument(help="Zoo name, a name `adaptlab finetune --output` registered, or a folder.")
    ],
    name: NameOpt = "embedder",
    eval_sets: Annotated[
        Optional[list[str]],
        typer.Option(
            "--eval",
            help="Held-out dataset to evaluate on now (xquad-de-en, laws-heading, a BEIR folder). Repeatable.",
        ),
    ] = None,
    metric: Annotated[
        Optional[list[str]],
        typer.Option("--metric", help="A metric measured elsewhere: DATASET/METRIC=VALUE. Repeatable."),
    ] = None,
    alias: Annotated[
        Optional[str],
        typer.Option(
            "--alias",
            help="Also point this alias at the new version (challenger; champion goes through the gate).",
        ),
    ] = None,
    description: Annotated[str, typer.Option("--description", help="Free text shown in MLflow.")] = "",
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Register MODEL as a new version: a snapshot of its folder, its held-out metrics and its lineage."""
    from adaptlab.eval.metrics import PRIMARY_METRIC
    from adaptlab.registry import lineage
    from adaptlab.tracking.mlflow_runs import tracked_run

    registry = _registry(workspace, tracking_uri)
    found = lineage.candidate(registry.workspace, name, model)
    from_run = lineage.add_finetune_run(registry.workspace, found, model, tracking_uri)
    if eval_sets:
        found.metrics.update(lineage.evaluate(registry.workspace, found.model, list(eval_sets)))
    found.metrics.update(lineage.parse_metrics(list(metric or [])))
    found.lineage["eval"] = ",".join(eval_sets or [])
    if found.run_id is None:  # no training run to link: a run of its own holds the metrics for the MLflow UI
        with tracked_run(
            registry.workspace, "register", {"model": model, **found.lineage}, tracking_uri
        ) as run:
            run.log_metrics(found.metrics)
            found.run_id = run.run_id
    version = registry.register(
        name,
        found.model,
        found.source,
        found.metrics,
        PRIMARY_METRIC,
        {"kind": found.kind, **found.lineage},
        found.run_id,
        description,
    )
    origin = " (metrics and lineage from its finetune run)" if from_run else ""
    console.print(f"registered {name} v{version.version} ← {model}{origin}")
    if alias:
        _promote(registry, name, version.version, alias, force=False)


@registry_app.command("list")
def list_command(
    name: NameOpt = "embedder",
    history: Annotated[
        bool, typer.Option("--history", help="Also show the alias history (promotions, rollbacks).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Versions of a registered model with their aliases, primary metrics and lineage."""
    from adaptlab.registry.gate import primary_scores

    registry = _registry(workspace, tracking_uri)
    versions = registry.versions(name)
    if as_json:
        payload = {"name": name, "versions": [v.as_dict() for v in versions]}
        if history:
            payload["history"] = registry.events(name)
        console.print_json(json.dumps(payload, default=str))
        return
    table = Table(title=f"{name}: registered versions")
    for column in ("version", "aliases", "kind", "base", "primary metric (held-out)", "registered", "model"):
        table.add_column(column, overflow="fold")
    for v in versions:
        scores = primary_scores(v.metrics, v.primary_metric)
        shown = ", ".join(f"{d} {s:.3f}" for d, s in sorted(scores.items())) or "–"
        table.add_row(
            v.version,
            ", ".join(v.aliases),
            v.lineage.get("kind", ""),
            v.lineage.get("base_model", ""),
            f"{v.primary_metric}: {shown}" if scores else "–",
            _when(v.created_ms),
            v.model,
        )
    console.print(table)
    if history:
        events = Table(title="alias history")
        for column in ("when", "action", "alias", "version", "previous", "note"):
            events.add_column(column, overflow="fold")
        for e in registry.events(name):
            events.add_row(
                _when(e["at"]),
                e["action"],
                e.get("alias", ""),
                str(e["version"]),
                str(e.get("previous", "")),
                e.get("note", ""),
            )
        console.print(events)


def _promote(registry, name: str, version: str, alias: str, force: bool, min_delta: float = 0.0) -> None:
    done = registry.promote(name, version, alias, force, min_delta)
    before = f" (was v{done.previous})" if done.previous else ""
    note = (
        " — FORCED past the quality gate"
        if done.forced
        else (f" — gate: {done.gate.reason}" if done.gate else "")
    )
    console.print(f"{name}@{alias} → v{done.version.version}{before}{note}", highlight=False)


@registry_app.command("promote")
def promote_command(
    version: Annotated[str, typer.Argument(help="Version number to promote.")],
    name: NameOpt = "embedder",
    alias: Annotated[
        str, typer.Option("--alias", help="champion (quality-gated) or challenger (A/B candidate).")
    ] = "champion",
    force: Annotated[bool, typer.Option("--force", help="Promote even if the quality gate refuses.")] = False,
    min_delta: Annotated[
        float,
        typer.Option("--min-delta", help="Required improvement of the primary metric over the champion."),
    ] = 0.0,
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Point an alias at VERSION; a server polling the registry swaps to it without a restart."""
    _promote(_registry(workspace, tracking_uri), name, version, alias, force, min_delta)


@registry_app.command("rollback")
def rollback_command(
    name: NameOpt = "embedder",
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Make the previous champion the champion again (the history is kept)."""
    came_from, went_to = _registry(workspace, tracking_uri).rollback(name)
    console.print(f"{name}@champion → v{went_to} (rolled back from v{came_from})")


@registry_app.command("clear")
def clear_command(
    alias: Annotated[str, typer.Argument(help="Alias to remove, usually challenger (ends an A/B test).")],
    name: NameOpt = "embedder",
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Remove an alias (ends an A/B test when it is the challenger)."""
    _registry(workspace, tracking_uri).clear_alias(name, alias)
    console.print(f"{name}@{alias} removed")
