"""Inner-product search over float codes (float32, float16, or reduced dimensions), in bounded blocks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from adaptlab.eval.exact_search import BLOCK_BYTES, top_k


class FloatIndex:
    """Brute-force inner product; `encode_query` maps float32 queries into the codes' space first."""

    def __init__(self, codes: np.ndarray, encode_query: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self.codes = codes
        self.encode_query = encode_query

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.asarray(queries, dtype=np.float32)
        if self.encode_query is not None:
            queries = self.encode_query(queries)
        k = min(k, len(self.codes))
        # float16 codes are widened block by block, so memory stays bounded and the cost is counted
        rows = max(1, BLOCK_BYTES // (4 * self.codes.shape[1]))
        scores = np.empty((len(queries), len(self.codes)), dtype=np.float32)
        for start in range(0, len(self.codes), rows):
            block = np.asarray(self.codes[start : start + rows], dtype=np.float32)
            scores[:, start : start + rows] = queries @ block.T
        idx, top = top_k(scores, k)
        return top, idx
