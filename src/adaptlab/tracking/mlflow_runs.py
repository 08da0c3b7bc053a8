"""MLflow runs in the workspace's sqlite store by default, or at any tracking URI (a server).

`tracked_run` is the one way stages log: params at start, metrics and artifacts as they come.
`tracking_uri="none"` turns logging off (for quick scripts), never silently.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adaptlab.workspace import Workspace

EXPERIMENT = "adaptlab"


class RunLogger:
    """What a stage sees of a run: log params, metrics and artifacts; a no-op when tracking is off."""

    def __init__(self, mlflow_module: Any | None, run_id: str | None) -> None:
        self._mlflow = mlflow_module
        self.run_id = run_id

    @property
    def enabled(self) -> bool:
        return self._mlflow is not None

    def log_params(self, params: dict[str, Any]) -> None:
        if self._mlflow:
            flat = {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in params.items()}
            self._mlflow.log_params({k: str(v)[:6000] for k, v in flat.items()})

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        if self._mlflow:
            clean = {metric_name(k): float(v) for k, v in metrics.items() if v is not None}
            self._mlflow.log_metrics(clean, step=step)

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        if self._mlflow:
            self._mlflow.log_artifact(str(path), artifact_path=artifact_path)

    def log_dict(self, data: Any, filename: str) -> None:
        if self._mlflow:
            self._mlflow.log_dict(data, filename)


def metric_name(key: str) -> str:
    """A key MLflow accepts: '@' spelled out, anything else outside its alphabet ('+', brackets) made '_'."""
    return re.sub(r"[^\w\-. :/]", "_", key.replace("@", "_at_"))


def _import_mlflow() -> Any:
    """mlflow, imported quietly: its loggers are configured at import, so levels are set after it."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    import mlflow

    for name in ("alembic", "mlflow", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return mlflow


def _experiment_id(mlflow: Any, workspace: Workspace, name: str, local: bool) -> str:
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = workspace.artifacts_dir.as_uri() if local else None
    return mlflow.create_experiment(name, artifact_location=location)


@contextmanager
def tracked_run(
    workspace: Workspace,
    run_name: str,
    params: dict[str, Any] | None = None,
    tracking_uri: str | None = None,
    experiment: str = EXPERIMENT,
    tags: dict[str, str] | None = None,
) -> Iterator[RunLogger]:
    """Open an MLflow run for one command; failures mark the run FAILED and propagate."""
    if tracking_uri and tracking_uri.lower() == "none":
        yield RunLogger(None, None)
        return
    mlflow = _import_mlflow()
    uri = tracking_uri or workspace.tracking_uri
    mlflow.set_tracking_uri(uri)
    exp_id = _experiment_id(mlflow, workspace, experiment, local=tracking_uri is None)
    with mlflow.start_run(experiment_id=exp_id, run_name=run_name, tags=tags) as run:
        logger = RunLogger(mlflow, run.info.run_id)
        if params:
            logger.log_params(params)
        yield logger


def recent_runs(workspace: Workspace, limit: int = 5, tracking_uri: str | None = None) -> list[dict[str, Any]]:
    """The last runs for `status`; empty when no store exists yet (does not create one)."""
    if tracking_uri is None and not (workspace.root / "mlflow.sqlite").exists():
        return []
    mlflow = _import_mlflow()
    mlflow.set_tracking_uri(tracking_uri or workspace.tracking_uri)
    exp = mlflow.get_experiment_by_name(EXPERIMENT)
    if exp is None:
        return []
    runs = mlflow.search_runs([exp.experiment_id], max_results=limit, order_by=["start_time DESC"], output_format="list")
    return [
        {
            "run_id": r.info.run_id,
            "name": r.info.run_name,
            "status": r.info.status,
            "start_time": r.info.start_time,
            "metrics": dict(r.data.metrics),
        }
        for r in runs
    ]

