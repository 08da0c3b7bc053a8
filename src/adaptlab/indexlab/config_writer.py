"""Write the recommended index into an experiment config's `vectors:` section, keeping everything else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from adaptlab.config import parse_config
from adaptlab.errors import ConfigError
from adaptlab.indexlab.lab import LabResult


def vectors_section(result: LabResult) -> dict[str, Any]:
    return {
        "index_type": result.index_type,
        "metric": "COSINE",
        "params": dict(result.params),
        "search_params": dict(result.search_params),
    }


def write_index_config(path: Path, result: LabResult, in_memory: bool = False) -> Path:
    """Update (or create) `path`; the result is validated as a whole config before it is written.

    `in_memory`: also set `search.in_memory` (unfiltered searches from the serving process's FAISS copy),
    when the lab measured it faster than AUTOINDEX at the recall target."""
    if result.engine != "milvus":
        raise ConfigError(
            f"{result.setting} is a FAISS index; the config's vectors section takes Milvus indexes"
        )
    return write_vectors_config(path, vectors_section(result), in_memory)


def write_vectors_config(path: Path, section: dict[str, Any], in_memory: bool = False) -> Path:
    """Merge `section` into the `vectors:` section of the config at `path` (created if missing), validated
    as a whole config first; `adaptlab compress apply` writes its chosen index through this too."""
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: invalid YAML ({exc}); fix it or write to a new file") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    vectors = dict(data.get("vectors") or {})
    vectors.update(section)
    data["vectors"] = vectors
    if in_memory:
        data["search"] = {**dict(data.get("search") or {}), "in_memory": True}
    parse_config(data, origin=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
