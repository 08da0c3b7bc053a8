"""Binary (sign) quantisation: 1 bit per dimension, Hamming search, optional rescoring of the shortlist.

The standard recipe (sentence-transformers' "binary + rescoring"): keep `dim/8` bytes per document in
memory, retrieve `k × oversample` candidates by Hamming distance (FAISS `IndexBinaryFlat`), then rescore
only those candidates with the float32 query:

- `rescore="none"`: Hamming order as is.
- `rescore="float"`: float32 query · the candidate's ±1 bits. Nothing but the bits is stored.
- `rescore="int8"`: float32 query · the candidate's decoded int8 vector. The int8 codes (dim bytes)
  are a second tier read only for the shortlist, so they can live on disk (memory-mapped); memory is
  counted as the bits only, storage as bits plus int8.
"""

from __future__ import annotations

from typing import Literal

import faiss
import numpy as np

from adaptlab.compress.base import CodeIndex, Compressor
from adaptlab.compress.int8 import Int8
from adaptlab.errors import AdaptlabError

Rescore = Literal["none", "float", "int8"]
RESCORE_MODES: tuple[str, ...] = ("none", "float", "int8")


def pack_signs(vectors: np.ndarray) -> np.ndarray:
    """One bit per dimension (x > 0), packed into bytes: sentence-transformers' `ubinary` precision."""
    return np.packbits(vectors > 0, axis=-1)


class BinaryIndex:
    """Hamming shortlist from FAISS, then an optional float rescoring of the shortlist."""

    def __init__(self, bits: np.ndarray, dim: int, rescore: str, oversample: int, int8: Int8 | None,
                 int8_codes: np.ndarray | None) -> None:
        self.bits, self.dim, self.rescore, self.oversample = bits, dim, rescore, oversample
        self.int8, self.int8_codes = int8, int8_codes
        self.hamming = faiss.IndexBinaryFlat(dim)
        self.hamming.add(bits)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.asarray(queries, dtype=np.float32)
        k = min(k, len(self.bits))
        if self.rescore == "none":
            distances, idx = self.hamming.search(pack_signs(queries), k)
            return -distances.astype(np.float32), idx
        shortlist = min(k * self.oversample, len(self.bits))
        _, cand = self.hamming.search(pack_signs(queries), shortlist)
        scores = np.einsum("qd,qcd->qc", queries, self._candidates(cand))
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(scores, order, axis=1), np.take_along_axis(cand, order, axis=1)

    def _candidates(self, cand: np.ndarray) -> np.ndarray:
        """(queries, shortlist, dim) float vectors of the candidates: ±1 bits or decoded int8."""
        if self.rescore == "float":
            bits = np.unpackbits(self.bits[cand], axis=-1, count=self.dim)
            return bits.astype(np.float32) * 2.0 - 1.0
        assert self.int8 is not None and self.int8_codes is not None
        flat = self.int8.decode(self.int8_codes[cand.ravel()])
        return flat.reshape(*cand.shape, self.dim)


class Binary(Compressor):
    """Sign bits (32× smaller than float32), searched by Hamming distance, optionally rescored."""

    method = "binary"

    def __init__(self, dim: int, rescore: Rescore = "none", oversample: int = 4) -> None:
        super().__init__(dim)
        if rescore not in RESCORE_MODES:
            raise AdaptlabError(f"binary rescore must be one of {', '.join(RESCORE_MODES)}, got {rescore!r}")
        if oversample < 1:
            raise AdaptlabError(f"binary oversample must be at least 1, got {oversample}")
        self.rescore, self.oversample = rescore, oversample
        self._int8 = Int8(dim) if rescore == "int8" else None

    @property
    def name(self) -> str:
        if self.rescore == "none":
            return "binary"
        suffix = "-int8" if self.rescore == "int8" else ""
        return f"binary-rescore{suffix}:{self.oversample}"

    @property
    def code_bytes(self) -> int:
        return (self.dim + 7) // 8

    def fit(self, vectors: np.ndarray) -> Binary:
        vectors = self._check_dim(vectors)
        if self._int8 is not None:
            self._int8.fit(vectors)
        return self

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """Packed bits; with int8 rescoring the int8 codes follow in the same row (the disk tier)."""
        vectors = self._check_dim(vectors)
        bits = pack_signs(vectors)
        return bits if self._int8 is None else np.hstack([bits, self._int8.transform(vectors)])

    def index(self, codes: np.ndarray) -> CodeIndex:
        bits = np.ascontiguousarray(codes[:, : self.code_bytes])
        int8_codes = codes[:, self.code_bytes :] if self._int8 is not None else None
        return BinaryIndex(bits, self.dim, self.rescore, self.oversample, self._int8, int8_codes)

    @property
    def bytes_per_vector(self) -> float:
        return float(self.code_bytes)

    @property
    def stored_bytes_per_vector(self) -> float:
        return float(self.code_bytes + (self.dim if self._int8 is not None else 0))

    def params(self) -> dict[str, object]:
        return {"rescore": self.rescore, "oversample": self.oversample}

    def state(self) -> dict[str, np.ndarray]:
        return self._int8.state() if self._int8 is not None else {}

    def set_state(self, arrays: dict[str, np.ndarray]) -> None:
        if self._int8 is not None:
            self._int8.set_state(arrays)
