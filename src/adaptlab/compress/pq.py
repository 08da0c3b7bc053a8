"""Product quantisation (FAISS `IndexPQ`): `m` sub-vectors, each replaced by one of 2^nbits centroids.

A vector costs `m·nbits/8` bytes; the codebooks (2^nbits · dim floats) are shared by the corpus.
Search is asymmetric distance computation: the float32 query against the codebook entries.
k-means needs at least 2^nbits training vectors, so with `nbits=None` the largest nbits ≤ 8 that the
corpus supports is chosen (and shows in the name, `pq:48x7`).
"""

from __future__ import annotations

import math

import faiss
import numpy as np

from adaptlab.compress.faiss_codec import FaissCodec
from adaptlab.errors import AdaptlabError

MAX_NBITS = 8


class ProductQuantizer(FaissCodec):
    """`m` must divide `dim`; `nbits` (1–8, or None: as many as the corpus can train) bits per sub-vector."""

    method = "pq"

    def __init__(self, dim: int, m: int | None = None, nbits: int | None = None) -> None:
        super().__init__(dim)
        self.m = m or max(1, dim // 8)
        if dim % self.m:
            raise AdaptlabError(f"pq: m={self.m} must divide the dimension {dim}")
        if nbits is not None and not 1 <= nbits <= MAX_NBITS:
            raise AdaptlabError(f"pq: nbits must be between 1 and {MAX_NBITS}, got {nbits}")
        self.nbits = nbits

    @property
    def name(self) -> str:
        return f"pq:{self.m}" if self.nbits is None else f"pq:{self.m}x{self.nbits}"

    def fit(self, vectors: np.ndarray) -> ProductQuantizer:
        vectors = self._check_dim(vectors)
        if self.nbits is None:
            self.nbits = min(MAX_NBITS, int(math.log2(max(len(vectors), 2))))
        if len(vectors) < 2**self.nbits:
            raise AdaptlabError(
                f"pq: nbits={self.nbits} needs at least {2**self.nbits} training vectors, got {len(vectors)}"
            )
        index = faiss.IndexPQ(self.dim, self.m, self.nbits, faiss.METRIC_INNER_PRODUCT)
        index.pq.cp.min_points_per_centroid = 1  # small corpora are allowed; the name shows nbits
        index.pq.cp.seed = 1234
        index.train(vectors)
        self._index = index
        return self

    @property
    def bytes_per_vector(self) -> float:
        return float(self.fitted.code_size)

    def params(self) -> dict[str, object]:
        return {"m": self.m, "nbits": self.nbits}


