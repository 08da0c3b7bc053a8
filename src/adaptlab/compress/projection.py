"""Dimension reduction: documents and queries go through the same map to `out_dim` float32 dimensions.

The reduced vectors are L2-normalised again, so search stays cosine. Subclasses say how they map.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from adaptlab.compress.base import CodeIndex, Compressor
from adaptlab.compress.float_index import FloatIndex
from adaptlab.errors import AdaptlabError
from adaptlab.models.base import l2_normalize


class Projection(Compressor):
    """`out_dim` float32 numbers per vector (default: a quarter of the input dimension)."""

    def __init__(self, dim: int, out_dim: int | None = None) -> None:
        super().__init__(dim)
        self.out_dim = out_dim or max(1, dim // 4)
        if not 1 <= self.out_dim <= dim:
            raise AdaptlabError(f"{self.method}: dimensions must be between 1 and {dim}, got {self.out_dim}")

    @property
    def name(self) -> str:
        return f"{self.method}:{self.out_dim}"

    @abstractmethod
    def project(self, vectors: np.ndarray) -> np.ndarray:
        """(n, dim) → (n, out_dim), before normalisation."""

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        return l2_normalize(self.project(self._check_dim(vectors)))

    def index(self, codes: np.ndarray) -> CodeIndex:
        return FloatIndex(codes, encode_query=self.transform)

    @property
    def bytes_per_vector(self) -> float:
        return 4.0 * self.out_dim

    def params(self) -> dict[str, object]:
        return {"out_dim": self.out_dim}
