"""The contract every embedding compressor fulfils: fit on the corpus, transform to codes, search the codes.

scikit-learn style: `fit(corpus_vectors)` learns what the method needs (ranges, codebooks, projections),
`transform(vectors)` turns float32 vectors into the codes that are stored, and `index(codes)` gives a
searcher that takes float32 queries (each method decides whether queries are compressed too).
`save`/`load` write the fitted object to one `.npz` file, without pickle.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from adaptlab.errors import AdaptlabError

META_KEY = "__meta__"


class CodeIndex(Protocol):
    """Searchable compressed corpus; `search` returns (scores, row indices), best first, like FAISS."""

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...


class Compressor(ABC):
    """One compression method with its settings; `name` is the spec that rebuilds it (`pca:96`)."""

    method: ClassVar[str]

    def __init__(self, dim: int) -> None:
        self.dim = dim

    @property
    def name(self) -> str:
        return self.method

    @abstractmethod
    def fit(self, vectors: np.ndarray) -> Compressor:
        """Learn from the corpus vectors (L2-normalised float32, shape (n, dim)); returns self."""

    @abstractmethod
    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """The stored codes of `vectors`, one row per vector."""

    @abstractmethod
    def index(self, codes: np.ndarray) -> CodeIndex:
        """A searcher over codes made by `transform`."""

    @property
    @abstractmethod
    def bytes_per_vector(self) -> float:
        """Bytes per corpus vector the search holds in memory (shared parameters not included)."""

    @property
    def stored_bytes_per_vector(self) -> float:
        """Bytes per corpus vector stored in all (memory plus disk); differs for two-tier methods."""
        return self.bytes_per_vector

    def params(self) -> dict[str, Any]:
        """Constructor arguments besides `dim` (JSON values): what `load` needs to rebuild the object."""
        return {}

    def state(self) -> dict[str, np.ndarray]:
        """The fitted arrays; empty for methods that learn nothing."""
        return {}

    def set_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore what `state` returned; methods without state accept none."""
        if arrays:
            raise AdaptlabError(f"{self.name}: unexpected fitted arrays {sorted(arrays)} in the saved file")

    def _check_dim(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise AdaptlabError(f"{self.name}: expected vectors of dimension {self.dim}, got shape {vectors.shape}")
        return vectors

    def save(self, path: str | Path) -> Path:
        """Write the fitted compressor to one `.npz` file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"method": self.method, "dim": self.dim, "params": self.params()})
        with open(path, "wb") as fh:
            np.savez(fh, **{META_KEY: np.array(meta)}, **self.state())
        return path

    @staticmethod
    def load(path: str | Path) -> Compressor:
        """The compressor `save` wrote, ready to transform and search."""
        from adaptlab.compress.registry import class_for_method

        with np.load(Path(path), allow_pickle=False) as data:
            meta = json.loads(str(data[META_KEY]))
            arrays = {key: data[key] for key in data.files if key != META_KEY}
        compressor = class_for_method(meta["method"])(meta["dim"], **meta["params"])
        compressor.set_state(arrays)
        return compressor
