"""Several embedders as one: their L2-normalised vectors, weighted and concatenated.

The cosine of two concatenations is the weighted sum of the members' cosines (divided by Σw²), so an
ensemble ranks by the members' agreement. Zoo models differ in what they know — e5-small and the
multilingual USE disagree on which German term means which English definition — and an adapter fitted
on each with the same corpus pairs keeps that diversity. Saved as one folder: `ensemble.json` (members
and weights) plus one sub-folder per member that is itself an adapter or model folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.errors import AdaptlabError
from adaptlab.models.base import Embedder, l2_normalize

ENSEMBLE_FILE = "ensemble.json"


def is_ensemble_dir(path: Path) -> bool:
    return (Path(path) / ENSEMBLE_FILE).is_file()


class EnsembleEmbedder(Embedder):
    """encode → each member, L2-normalised, × its weight → concatenated → L2-normalised."""

    def __init__(self, members: Sequence[Embedder], weights: Sequence[float], name: str) -> None:
        if not members or len(members) != len(weights):
            raise AdaptlabError("an ensemble needs at least one member and one weight per member")
        if any(w < 0 for w in weights) or not any(w > 0 for w in weights):
            raise AdaptlabError(f"ensemble weights must be ≥ 0 with at least one > 0, got {list(weights)}")
        self.members = list(members)
        self.weights = [float(w) for w in weights]
        self.name = name
        self.dim = sum(m.dim for m in self.members)
        self.max_seq_length = min((m.max_seq_length for m in self.members if m.max_seq_length), default=None)

    def combine(self, parts: Sequence[np.ndarray]) -> np.ndarray:
        """The ensemble's vectors from each member's vectors (same rows, members' order)."""
        return l2_normalize(np.hstack([w * l2_normalize(p) for w, p in zip(self.weights, parts)]).astype(np.float32))

    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self.combine([m.encode_documents(texts, batch_size=batch_size) for m in self.members])

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self.combine([m.encode_queries(texts, batch_size=batch_size) for m in self.members])

    def count_tokens(self, texts: Sequence[str]) -> list[int] | None:
        return self.members[0].count_tokens(texts)


def save_ensemble(folder: Path, members: Sequence[tuple[str, float]], extra: dict[str, object] | None = None) -> Path:
    """Write `ensemble.json`; `members` are (sub-folder name, weight), each sub-folder already saved."""
    for sub, _ in members:
        if not (folder / sub).is_dir():
            raise AdaptlabError(f"{folder / sub}: ensemble member folder missing")
    meta = {"members": [{"folder": sub, "weight": weight} for sub, weight in members], **(extra or {})}
    (folder / ENSEMBLE_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return folder


def read_ensemble(folder: Path) -> tuple[list[tuple[str, float]], dict[str, Any]]:
    """(sub-folder, weight) per member and the whole `ensemble.json` of an ensemble folder."""
    path = Path(folder) / ENSEMBLE_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        return [(str(m["folder"]), float(m["weight"])) for m in meta["members"]], meta
    except (OSError, ValueError, KeyError, TypeError):
        raise AdaptlabError(f"{path}: not a valid ensemble description; re-run `adaptlab finetune`") from None


def load_ensemble(folder: Path, load_member: Callable[[Path], Embedder], name: str) -> EnsembleEmbedder:
    """An EnsembleEmbedder whose members `load_member` opens from their sub-folders."""
    entries, _ = read_ensemble(folder)
    return EnsembleEmbedder([load_member(Path(folder) / sub) for sub, _ in entries], [w for _, w in entries], name)
