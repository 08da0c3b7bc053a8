"""Embeddings kept on disk per (model, role, texts), so repeated compression runs never re-encode."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from adaptlab.corpus.types import content_hash
from adaptlab.models.base import Embedder
from adaptlab.models.encode import encode_documents


class VectorCache:
    """`.npy` files under `root`, named by model and a hash of the role and every text."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, model: str, role: str, texts: list[str]) -> Path:
        name = re.sub(r"[^0-9A-Za-z._-]+", "_", model)[-60:]
        return self.root / f"{name}-{role}-{content_hash(model, role, *texts)}.npy"

    def documents(self, embedder: Embedder, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self._get(embedder, "documents", texts, lambda: encode_documents(embedder, texts, batch_size))

    def queries(self, embedder: Embedder, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self._get(embedder, "queries", texts, lambda: embedder.encode_queries(texts, batch_size=batch_size))

    def _get(self, embedder: Embedder, role: str, texts: list[str], encode: Callable[[], np.ndarray]) -> np.ndarray:
        path = self.path(embedder.name, role, texts)
        if path.is_file():
            return np.load(path)
        vectors = np.asarray(encode(), dtype=np.float32)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)  # atomic: an interrupted run never leaves half a file under the real name
        return vectors
