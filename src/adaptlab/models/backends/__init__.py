"""Embedder backends, one per runtime; each module imports its heavy library only when instantiated."""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def batches(texts: Sequence[str], batch_size: int) -> Iterator[list[str]]:
    """Consecutive slices of at most `batch_size` texts (batch_size < 1 is treated as 1)."""
    size = max(1, int(batch_size))
    for start in range(0, len(texts), size):
        yield list(texts[start : start + size])
