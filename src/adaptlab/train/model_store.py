"""Trained models by name: a small JSON registry in the workspace (`models/registry.json`).

`finetune --output NAME` registers its folder (a sentence-transformers model or an adapter), so every
command that takes `--model` resolves NAME, a zoo name, or a folder path the same way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from adaptlab.corpus.types import content_hash
from adaptlab.errors import AdaptlabError
from adaptlab.models.base import Embedder
from adaptlab.models.loading import load_embedder
from adaptlab.models.registry import ZOO, get_spec
from adaptlab.retrieval.rerank import is_cross_encoder_dir
from adaptlab.train.adapter import AdapterEmbedder, EmbeddingAdapter, is_adapter_dir
from adaptlab.train.bridge import BridgeEmbedder, QueryBridge, bridge_target, is_bridge_dir
from adaptlab.train.ensemble import is_ensemble_dir, load_ensemble
from adaptlab.workspace import Workspace

REGISTRY = "registry.json"


def _registry_path(workspace: Workspace) -> Path:
    return workspace.model_cache / REGISTRY


_READ: dict[Path, tuple[tuple[int, int], str]] = {}
"""The registry's text by file, with the (mtime, size) it was read at: a server resolves names per search."""


def registered_models(workspace: Workspace) -> dict[str, dict[str, str]]:
    path = workspace.root / "models" / REGISTRY  # not `model_cache`: reading should not create folders
    try:
        info = path.stat()
    except OSError:
        return {}
    stamp = (info.st_mtime_ns, info.st_size)
    cached = _READ.get(path)
    if cached is None or cached[0] != stamp:
        try:
            cached = _READ[path] = (stamp, path.read_text(encoding="utf-8"))
        except OSError:
            return {}
    try:
        data = json.loads(cached[1])  # parsed per call: callers may change the dict they get
    except ValueError:
        raise AdaptlabError(f"{path}: corrupt model registry (invalid JSON); delete it and re-register") from None
    return data if isinstance(data, dict) else {}


def register_model(workspace: Workspace, name: str, folder: Path) -> dict[str, str]:
    """Record NAME → folder; the entry's key changes with the folder's content, so a retrained model
    gets a fresh vector collection instead of reusing stale vectors."""
    if name in ZOO:
        raise AdaptlabError(f"'{name}' is a zoo model name; choose another --output name")
    folder = Path(folder).resolve()
    stamp = "".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in sorted(folder.rglob("*")) if p.is_file())
    kind = "adapter" if is_adapter_dir(folder) else "ensemble" if is_ensemble_dir(folder) else (
        "bridge" if is_bridge_dir(folder) else "cross-encoder" if is_cross_encoder_dir(folder)
        else "sentence-transformers")
    entry = {"path": str(folder), "kind": kind,
             "key": f"{name}-{content_hash(stamp)[:8]}"}
    models = registered_models(workspace)
    models[name] = entry
    path = _registry_path(workspace)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(models, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return entry


def resolve_model(workspace: Workspace, name: str) -> str:
    """A registered name's folder, otherwise `name` unchanged (zoo name or path)."""
    entry = registered_models(workspace).get(name)
    return entry["path"] if entry and name not in ZOO else name


def model_key(workspace: Workspace, name: str) -> str:
    """A stable identifier for collection names: the registry key, the zoo name, or the folder path.

    A bridge embeds documents with its target model, so it shares the target's collection: vectors indexed
    with MiniLM answer the bridge's German queries without being embedded again."""
    entry = registered_models(workspace).get(name)
    path = Path(entry["path"] if entry and name not in ZOO else name).expanduser()
    if is_bridge_dir(path):
        return model_key(workspace, bridge_target(path))
    if entry and name not in ZOO:
        return entry["key"]
    if is_adapter_dir(path) or is_ensemble_dir(path):
        kind = "adapter" if is_adapter_dir(path) else "ensemble"
        return f"{kind}-{path.resolve().name}-{content_hash(str(path.resolve()))[:8]}"
    return get_spec(name).name


def load_model(workspace: Workspace, name: str) -> Embedder:
    """An Embedder for a registered name, a zoo name, a sentence-transformers, adapter, ensemble or bridge folder."""
    target = resolve_model(workspace, name)
    path = Path(target).expanduser()
    if is_cross_encoder_dir(path):
        raise AdaptlabError(f"'{name}' is a cross-encoder reranker, not an embedding model; use it with --rerank {name}")
    label = name if name != target else str(path.resolve())
    if is_ensemble_dir(path):
        return load_ensemble(path, lambda member: load_model(workspace, str(member)), name=label)
    if is_bridge_dir(path):
        bridge = QueryBridge.load(path)
        return BridgeEmbedder(load_model(workspace, bridge.encoder), load_model(workspace, bridge.target), bridge,
                              name=label)
    if not is_adapter_dir(path):
        return load_embedder(target, workspace.model_cache)
    adapter = EmbeddingAdapter.load(path)
    base = load_model(workspace, adapter.base)
    return AdapterEmbedder(base, adapter, name=label)
