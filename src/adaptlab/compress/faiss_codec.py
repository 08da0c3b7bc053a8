"""The part FAISS-backed codecs (int8 scalar quantiser, PQ) share: encode, index, serialise."""

from __future__ import annotations

import faiss
import numpy as np

from adaptlab.compress.base import CodeIndex, Compressor


class FaissCodec(Compressor):
    """A compressor whose fitted state is one trained FAISS index with `sa_encode` / `add_sa_codes`."""

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self._index: faiss.Index | None = None

    @property
    def fitted(self) -> faiss.Index:
        if self._index is None:
            raise RuntimeError(f"{self.name}: call fit() first")
        return self._index

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        return self.fitted.sa_encode(self._check_dim(vectors))

    def index(self, codes: np.ndarray) -> CodeIndex:
        index = faiss.clone_index(self.fitted)
        index.add_sa_codes(np.ascontiguousarray(codes, dtype=np.uint8))
        return index

    def state(self) -> dict[str, np.ndarray]:
        return {"faiss_index": faiss.serialize_index(self.fitted)}

    def set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self._index = faiss.deserialize_index(arrays["faiss_index"])
