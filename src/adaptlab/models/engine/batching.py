"""Batches over a block of rows: sorted by token length and cut under a token budget, so batches are
large (the matrix units stay fed) and nearly free of padding.

Rows that share an exact length are batched alone when there are enough of them (`min_uniform_rows`):
such a batch needs no attention mask, so SDPA can take its flash kernel, and no compute goes to
padding at all. The rest are batched with neighbours of similar length and a mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Batch:
    """Rows [start, stop) of the planned order, padded to `length` tokens."""

    start: int
    stop: int
    length: int

    @property
    def rows(self) -> int:
        return self.stop - self.start


def plan_batches(
    sorted_lengths: np.ndarray, token_budget: int, max_rows: int = 4096, offset: int = 0
) -> list[Batch]:
    """Split rows sorted longest first into batches of at most `token_budget` padded tokens.

    The loop runs once per batch, not per row: a batch takes as many rows as fit under the budget at
    the length of its first (longest) row.
    """
    lengths = np.asarray(sorted_lengths)
    if lengths.size and np.any(lengths[:-1] < lengths[1:]):
        raise ValueError("plan_batches needs lengths sorted longest first")
    batches: list[Batch] = []
    start, n = 0, int(lengths.size)
    while start < n:
        length = int(lengths[start])
        rows = max(1, min(max_rows, token_budget // max(length, 1)))
        stop = min(n, start + rows)
        batches.append(Batch(offset + start, offset + stop, length))
        start = stop
    return batches


def _even_split(start: int, rows: int, length: int, cap: int) -> list[Batch]:
    """`rows` rows of one length in ceil(rows/cap) batches of near-equal size (no tiny tail batch)."""
    parts = -(-rows // cap)
    bounds = np.linspace(0, rows, parts + 1).round().astype(int)
    return [Batch(start + int(a), start + int(b), length) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def plan_block(
    lengths: np.ndarray, token_budget: int, max_rows: int = 4096, min_uniform_rows: int = 0
) -> tuple[np.ndarray, list[Batch]]:
    """(row order, batches over that order) for one block; `lengths[order]` is what the batches cover."""
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[order]
    if min_uniform_rows <= 0 or lengths.size == 0:
        return order, plan_batches(sorted_lengths, token_budget, max_rows)
    cuts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_lengths)) + 1, [lengths.size]))
    uniform_idx: list[np.ndarray] = []
    rest_idx: list[np.ndarray] = []
    batches: list[Batch] = []
    position = 0
    for a, b in zip(cuts[:-1], cuts[1:]):  # once per distinct length (at most the window size)
        if b - a >= min_uniform_rows:
            length = int(sorted_lengths[a])
            cap = max(1, min(max_rows, token_budget // max(length, 1)))
            batches += _even_split(position, int(b - a), length, cap)
            uniform_idx.append(order[a:b])
            position += int(b - a)
        else:
            rest_idx.append(order[a:b])
    rest = np.concatenate(rest_idx) if rest_idx else np.zeros(0, dtype=np.int64)
    batches += plan_batches(lengths[rest], token_budget, max_rows, offset=position)
    return np.concatenate([*uniform_idx, rest]), batches


def padded_fraction(lengths_in_order: np.ndarray, batches: list[Batch]) -> float:
    """Share of computed token positions that are padding (0.0 = none)."""
    real = int(np.asarray(lengths_in_order).sum())
    computed = sum(b.rows * b.length for b in batches)
    return 0.0 if computed == 0 else 1.0 - real / computed
