"""float32 (the uncompressed reference every method is compared with) and float16 (half the bytes)."""

from __future__ import annotations

import numpy as np

from adaptlab.compress.base import CodeIndex, Compressor
from adaptlab.compress.float_index import FloatIndex


class Float32(Compressor):
    """No compression: exact inner-product search, the baseline for quality kept and compression factor."""

    method = "float32"

    def fit(self, vectors: np.ndarray) -> Float32:
        self._check_dim(vectors)
        return self

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        return self._check_dim(vectors)

    def index(self, codes: np.ndarray) -> CodeIndex:
        return FloatIndex(codes)

    @property
    def bytes_per_vector(self) -> float:
        return 4.0 * self.dim


class Float16(Compressor):
    """Half precision storage; queries stay float32 and documents are widened at search time."""

    method = "float16"

    def fit(self, vectors: np.ndarray) -> Float16:
        self._check_dim(vectors)
        return self

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        return self._check_dim(vectors).astype(np.float16)

    def index(self, codes: np.ndarray) -> CodeIndex:
        return FloatIndex(codes)

    @property
    def bytes_per_vector(self) -> float:
        return 2.0 * self.dim
