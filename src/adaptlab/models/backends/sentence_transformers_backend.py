"""sentence-transformers models (zoo MiniLM / mpnet and local fine-tuned folders) on CPU or GPU."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.models.base import Embedder, l2_normalize


def auto_device() -> str:
    """cuda when a GPU is visible, else cpu (mps is skipped: fp16 kernels there are unreliable)."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def embedding_width(model: Any) -> int:
    """A SentenceTransformer's output dimension (`get_embedding_dimension` since v6, the older name before)."""
    get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(get_dim())


ENGINE_MIN_TEXTS = 256  # below this, one plain encode call is as fast as starting the engine's pipeline


class SentenceTransformerEmbedder(Embedder):
    """Wraps a SentenceTransformer loaded from a local folder; half precision on GPU for speed.

    Queries and documents go through `encode_query` / `encode_document`, so a model whose config
    defines `query` / `document` prompts (e5-style fine-tunes) gets them applied.
    """

    def __init__(self, path: Path, name: str | None = None, device: str | None = None) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        self.device = device or auto_device()
        # transformers draws a "Loading weights" bar per load; it would garble CLI output.
        bar_was_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            self.model: Any = SentenceTransformer(str(path), device=self.device, local_files_only=True)
        finally:
            if bar_was_on:
                hf_logging.enable_progress_bar()
        if self.device.startswith("cuda"):
            self.model.half()
        self.name = name or str(path)
        self.dim = embedding_width(self.model)
        self.max_seq_length = self.model.max_seq_length
        self.path = Path(path)
        self.engine: Any = None
        if self.device.startswith("cuda"):
            self._start_engine()

    def _start_engine(self) -> None:
        """On a GPU, documents go through the throughput engine when the model's layout allows it."""
        from adaptlab.errors import AdaptlabError
        from adaptlab.models.engine import FastEncoder, FastEncoderConfig

        try:
            self.engine = FastEncoder(self.path, FastEncoderConfig(device=self.device))
        except AdaptlabError:  # e.g. a Dense head: sentence-transformers' own encode stays in charge
            self.engine = None
            return
        self.whole_blocks = True
        self.preferred_block_size = self.engine.config.block_size

    def _encode(self, texts: Sequence[str], batch_size: int, query: bool) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        encode = self.model.encode_query if query else self.model.encode_document
        vectors = encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        # Re-normalise in float32: half-precision outputs are only unit-norm to ~1e-3.
        return l2_normalize(vectors)

    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if self.engine is not None and len(texts) >= ENGINE_MIN_TEXTS:
            return l2_normalize(self.engine.encode(texts))
        return self._encode(texts, batch_size, query=False)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, batch_size, query=True)

    def count_tokens(self, texts: Sequence[str]) -> list[int] | None:
        tokenizer = getattr(self.model, "tokenizer", None)
        if tokenizer is None:
            return None
        encoded = tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]
