"""PCA fitted on the corpus vectors (scikit-learn); the state is the mean and the components."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA as SkPCA

from adaptlab.compress.projection import Projection
from adaptlab.errors import AdaptlabError


class PCA(Projection):
    """The `out_dim` directions of largest variance in the corpus; needs at least `out_dim` vectors."""

    method = "pca"

    def __init__(self, dim: int, out_dim: int | None = None) -> None:
        super().__init__(dim, out_dim)
        self.mean: np.ndarray | None = None
        self.components: np.ndarray | None = None

    def fit(self, vectors: np.ndarray) -> PCA:
        vectors = self._check_dim(vectors)
        if len(vectors) < self.out_dim:
            raise AdaptlabError(f"{self.name}: needs at least {self.out_dim} corpus vectors, got {len(vectors)}")
        pca = SkPCA(n_components=self.out_dim, random_state=0).fit(vectors)
        self.mean = pca.mean_.astype(np.float32)
        self.components = pca.components_.astype(np.float32)
        return self

    def project(self, vectors: np.ndarray) -> np.ndarray:
        if self.mean is None or self.components is None:
            raise RuntimeError(f"{self.name}: call fit() first")
        return (vectors - self.mean) @ self.components.T

    def state(self) -> dict[str, np.ndarray]:
        if self.mean is None or self.components is None:
            return {}
        return {"mean": self.mean, "components": self.components}

    def set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.mean, self.components = arrays["mean"], arrays["components"]
