"""What a new registry version is made of: an immutable copy of the model, its metrics and its lineage.

A zoo model is registered by name (its weights are an installed package, pinned by its version). A folder
(a `finetune --output NAME` result, an adapter, any sentence-transformers folder) is copied into
`<workspace>/registry/<name>/<content hash>/`, because `finetune` overwrites its output folder on the next
run and a registered version must keep meaning the same weights. Metrics come from the `finetune` run that
produced the model ("after" scores on its held-out sets), from `--eval` run now, or from `--metric`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from adaptlab.errors import AdaptlabError
from adaptlab.models.registry import ZOO
from adaptlab.train.model_store import registered_models
from adaptlab.workspace import Workspace

SNAPSHOTS = "registry"


@dataclass
class Candidate:
    """Everything `ModelRegistry.register` needs for one version."""

    model: str
    source: str
    kind: str
    lineage: dict[str, str]
    metrics: dict[str, float] = field(default_factory=dict)
    run_id: str | None = None


def folder_hash(folder: Path) -> str:
    """Content hash of every file's relative path and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def snapshot(workspace: Workspace, name: str, folder: Path) -> Path:
    """An immutable copy of `folder` under the workspace, shared by versions with identical content."""
    target = workspace.root / SNAPSHOTS / name / folder_hash(folder)[:16]
    if not target.is_dir():
        tmp = target.with_name(target.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(folder, tmp)
        tmp.rename(target)
    return target


def candidate(workspace: Workspace, name: str, model: str) -> Candidate:
    """Resolve MODEL (zoo name, `finetune` output name or folder) into what a version records."""
    if model in ZOO:
        spec = ZOO[model]
        packages = {p: _package_version(p) for p in spec.packages}
        return Candidate(model, model, spec.backend, {"base_model": model, "packages": json.dumps(packages)})
    entry = registered_models(workspace).get(model)
    folder = Path(entry["path"] if entry else model).expanduser()
    if not folder.is_dir():
        raise AdaptlabError(
            f"model '{model}' is neither a zoo model, a name `adaptlab finetune --output` "
            "registered in this workspace, nor a folder"
        )
    meta_files = {"adapter": "adapter.json", "ensemble": "ensemble.json", "bridge": "bridge.json"}
    kind = next((k for k, meta in meta_files.items() if (folder / meta).is_file()), "sentence-transformers")
    if kind == "sentence-transformers" and not (folder / "modules.json").is_file():
        raise AdaptlabError(f"{folder}: not a sentence-transformers folder (no modules.json), an adapter, an ensemble "
                            "nor a bridge")
    copy = snapshot(workspace, name, folder.resolve())
    lineage = {"source_name": model if entry else "", "source_path": str(folder.resolve())}
    if kind in meta_files:
        lineage["base_model"] = str(json.loads((folder / meta_files[kind]).read_text(encoding="utf-8")).get("base", ""))
    return Candidate(str(copy), str(copy), kind, lineage)


def add_finetune_run(
    workspace: Workspace, found: Candidate, output_name: str, tracking_uri: str | None
) -> bool:
    """Metrics and lineage from the latest `finetune` run whose output was `output_name`; False if none."""
    from adaptlab.tracking.mlflow_runs import EXPERIMENT, _import_mlflow

    if tracking_uri is None and not (workspace.root / "mlflow.sqlite").exists():
        return False
    mlflow = _import_mlflow()
    client = mlflow.MlflowClient(tracking_uri=tracking_uri or workspace.tracking_uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        return False
    runs = client.search_runs(
        [experiment.experiment_id],
        f"params.output = '{output_name}' and status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not runs:
        return False
    run = runs[0]
    try:
        report = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/finetune.json")
    except Exception:  # an older run without the report: its params still give the lineage
        report = {}
    config = report.get("config") or dict(run.data.params)
    found.run_id = run.info.run_id
    found.lineage.update(
        {
            "finetune_run": run.info.run_id,
            "config": json.dumps(config, sort_keys=True, default=str),
            "base_model": str(config.get("base", found.lineage.get("base_model", ""))),
            "data": str(config.get("pairs", "")),
            "method": str(config.get("method", "")),
            "objective": str(config.get("objective", "")),
        }
    )
    for score in report.get("scores", []):
        if score.get("role") == "after":
            found.metrics.update({f"{score['dataset']}/{k}": float(v) for k, v in score["metrics"].items()})
    return True


def evaluate(workspace: Workspace, model: str, datasets: list[str], batch_size: int = 32) -> dict[str, float]:
    """Held-out metrics of `model` on `datasets` (exact search, the finetune stage's evaluation)."""
    from adaptlab.compress.vector_cache import VectorCache
    from adaptlab.eval.retrieval_eval import resolve_datasets
    from adaptlab.train.evaluate import evaluate_cached
    from adaptlab.train.model_store import load_model

    embedder = load_model(workspace, model)
    cache = VectorCache(workspace.vector_cache)
    metrics: dict[str, float] = {}
    for dataset in resolve_datasets(datasets):
        result = evaluate_cached(embedder, dataset, cache, 100, batch_size)
        metrics.update({f"{Path(dataset.name).name}/{k}": float(v) for k, v in result.metrics.items()})
    return metrics


def parse_metrics(items: list[str]) -> dict[str, float]:
    """`dataset/metric=value` pairs from the command line."""
    parsed: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            if not sep or "/" not in key:
                raise ValueError
            parsed[key.strip()] = float(value)
        except ValueError:
            raise AdaptlabError(
                f"--metric '{item}': expected DATASET/METRIC=NUMBER, e.g. xquad-de-en/ndcg@10=0.61"
            ) from None
    return parsed


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
