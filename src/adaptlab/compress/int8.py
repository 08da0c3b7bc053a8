"""int8 scalar quantisation with per-dimension ranges calibrated on the corpus (FAISS ScalarQuantizer).

Each dimension's [min, max] over the corpus is cut into 256 steps (FAISS `QT_8bit`, `RS_minmax`:
the same calibration as sentence-transformers' `quantize_embeddings(..., calibration_embeddings=...)`).
Search is asymmetric: the float32 query against the decoded codes, inside FAISS.
"""

from __future__ import annotations

import faiss
import numpy as np

from adaptlab.compress.faiss_codec import FaissCodec


class Int8(FaissCodec):
    """One byte per dimension; the ranges (2·dim floats per corpus) are the only fitted state."""

    method = "int8"

    def fit(self, vectors: np.ndarray) -> Int8:
        index = faiss.IndexScalarQuantizer(self.dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        index.train(self._check_dim(vectors))
        self._index = index
        return self

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Approximate float32 vectors back from codes (used to rescore binary candidates)."""
        return self.fitted.sa_decode(np.ascontiguousarray(codes, dtype=np.uint8))

    @property
    def bytes_per_vector(self) -> float:
        return float(self.dim)


