"""Gaussian random projection (scikit-learn): data-independent, distances kept in expectation
(Johnson–Lindenstrauss). The baseline a learned reduction has to beat."""

from __future__ import annotations

import numpy as np
from sklearn.random_projection import GaussianRandomProjection

from adaptlab.compress.projection import Projection


class RandomProjection(Projection):
    method = "random-projection"

    def __init__(self, dim: int, out_dim: int | None = None, seed: int = 0) -> None:
        super().__init__(dim, out_dim)
        self.seed = seed
        self.matrix: np.ndarray | None = None

    def fit(self, vectors: np.ndarray) -> RandomProjection:
        projector = GaussianRandomProjection(n_components=self.out_dim, random_state=self.seed)
        projector.fit(self._check_dim(vectors))
        self.matrix = np.asarray(projector.components_, dtype=np.float32)
        return self

    def project(self, vectors: np.ndarray) -> np.ndarray:
        if self.matrix is None:
            raise RuntimeError(f"{self.name}: call fit() first")
        return vectors @ self.matrix.T

    def params(self) -> dict[str, object]:
        return {**super().params(), "seed": self.seed}

    def state(self) -> dict[str, np.ndarray]:
        return {} if self.matrix is None else {"matrix": self.matrix}

    def set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.matrix = arrays["matrix"]
