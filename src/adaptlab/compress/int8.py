"""int8 scalar quantisation with per-dimension ranges calibrated on the corpus (FAISS ScalarQuantizer).

Each dimension's [min, max] over the corpus is cut into 256 steps (FAISS `QT_8bit`, `RS_minmax`:
the same calibration as sentence-transformers' `quantize_embeddings(..., calibration_embeddings=...)`).
Search is asymmetric: the float32 query against the decoded codes, inside FAISS.
"""

from __future__ import annotations

import faiss
import numpy as np

from adaptlab.compress.base import CodeIndex, Compressor


class Int8(Compressor):
    """One byte per dimension; the ranges (2·dim floats per corpus) are the only fitted state."""

    method = "int8"

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self._index: faiss.IndexScalarQuantizer | None = None

    def fit(self, vectors: np.ndarray) -> Int8:
        index = faiss.IndexScalarQuantizer(self.dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        index.train(self._check_dim(vectors))
        self._index = index
        return self

    @property
    def fitted(self) -> faiss.IndexScalarQuantizer:
        if self._index is None:
            raise RuntimeError(f"{self.name}: call fit() first")
        return self._index

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        return self.fitted.sa_encode(self._check_dim(vectors))

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Approximate float32 vectors back from codes (used to rescore binary candidates)."""
        return self.fitted.sa_decode(np.ascontiguousarray(codes, dtype=np.uint8))

    def index(self, codes: np.ndarray) -> CodeIndex:
        index = faiss.clone_index(self.fitted)
        index.add_sa_codes(np.ascontiguousarray(codes, dtype=np.uint8))
        return index

    @property
    def bytes_per_vector(self) -> float:
        return float(self.dim)

    def state(self) -> dict[str, np.ndarray]:
        return {"faiss_index": faiss.serialize_index(self.fitted)}

    def set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self._index = faiss.deserialize_index(arrays["faiss_index"])
