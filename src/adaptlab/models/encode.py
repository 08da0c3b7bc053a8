"""The encode path every stage uses: texts in length order, fixed-size blocks, results in input order.

Sorting the whole workload by length (not just each call's batch) keeps similar lengths together,
so batches carry little padding; blocks bound memory and give resumable checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from adaptlab.models.base import Embedder


def length_order(texts: Sequence[str]) -> list[int]:
    """Indices of `texts`, longest first (the ETA errs on the safe side and OOM shows up early)."""
    return sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)


def iter_blocks(
    embedder: Embedder, texts: Sequence[str], batch_size: int = 32, block_size: int = 512
) -> Iterator[tuple[list[int], np.ndarray]]:
    """Yield (indices, vectors) per block, in length order."""
    order = length_order(texts)
    for start in range(0, len(order), block_size):
        idx = order[start : start + block_size]
        yield idx, embedder.encode_documents([texts[i] for i in idx], batch_size=batch_size)


def encode_documents(
    embedder: Embedder,
    texts: Sequence[str],
    batch_size: int = 32,
    block_size: int = 512,
    on_block: Callable[[int], None] | None = None,
) -> np.ndarray:
    """All vectors, in the order of `texts`."""
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for idx, vecs in iter_blocks(embedder, texts, batch_size, block_size):
        out[idx] = vecs
        if on_block:
            on_block(len(idx))
    return out
