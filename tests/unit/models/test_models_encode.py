"""The encode path: token-length batches, results back in input order."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from adaptlab.models.base import Embedder
from adaptlab.models.encode import encode_documents


class WordCountEmbedder(Embedder):
    """A transparent fake: the vector encodes the text's word count; batches are recorded."""

    name = "fake"
    dim = 2
    max_seq_length = 8

    def __init__(self, with_tokenizer: bool = True) -> None:
        self.batches: list[list[int]] = []
        self.with_tokenizer = with_tokenizer

    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        self.batches.append([len(t.split()) for t in texts])
        return np.array([[len(t.split()), 1.0] for t in texts], dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int] | None:
        return [len(t.split()) for t in texts] if self.with_tokenizer else None


TEXTS = ["w " * n for n in (3, 12, 1, 7, 5, 2, 9, 4)]


def test_vectors_come_back_in_input_order() -> None:
    vecs = encode_documents(WordCountEmbedder(), TEXTS, batch_size=3, block_size=4)
    assert vecs[:, 0].tolist() == [3, 12, 1, 7, 5, 2, 9, 4]


def test_batches_are_sorted_by_tokens_capped_at_the_model_limit() -> None:
    embedder = WordCountEmbedder()
    encode_documents(embedder, TEXTS, batch_size=3, block_size=6)
    flat = [n for batch in embedder.batches for n in batch]
    assert [min(n, 8) for n in flat] == sorted((min(n, 8) for n in flat), reverse=True)
    assert all(len(b) <= 3 for b in embedder.batches)


def test_backends_without_tokenizer_get_whole_blocks() -> None:
    embedder = WordCountEmbedder(with_tokenizer=False)
    vecs = encode_documents(embedder, TEXTS, batch_size=3, block_size=4)
    assert [len(b) for b in embedder.batches] == [4, 4]
    assert vecs[:, 0].tolist() == [3, 12, 1, 7, 5, 2, 9, 4]
