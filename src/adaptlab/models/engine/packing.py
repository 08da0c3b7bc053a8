"""Packing a block of tokenised rows into fixed-size token steps, for the padding-free forward.

Rows are laid end to end (in input order) into steps of at most `step_tokens` tokens; each step is then
filled up to its size with "pad segments" (short dummy sequences whose outputs are dropped). The linear
layers then always see a [step_tokens, hidden] matrix: one shape for the whole job, so kernels are
chosen (or compiled) once and no compute goes to per-row padding. Attention keeps rows apart through
the cumulative sequence offsets (`cu_seqlens`) that variable-length flash attention takes.

Everything here is vectorised numpy run once per step, never per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PackedStep:
    """Rows [row_start, row_stop) of the block, packed into `tokens` positions with pad segments."""

    row_start: int
    row_stop: int
    tokens: int
    cu_seqlens: np.ndarray
    """int32 offsets of every segment (real rows first, then pad segments), from 0 to `tokens`."""
    max_length: int

    @property
    def rows(self) -> int:
        return self.row_stop - self.row_start

    @property
    def segments(self) -> int:
        return len(self.cu_seqlens) - 1


def _pad_segments(pad: int, max_length: int) -> np.ndarray:
    """Lengths of the dummy segments that fill `pad` positions, none longer than `max_length`."""
    if pad <= 0:
        return np.zeros(0, dtype=np.int64)
    full, rest = divmod(pad, max_length)
    sizes = [max_length] * full + ([rest] if rest else [])
    return np.asarray(sizes, dtype=np.int64)


def plan_packed(
    lengths: np.ndarray, step_tokens: int, max_length: int, pad_final_to: int | None = None
) -> list[PackedStep]:
    """Greedy packing of rows (kept in order) into steps of `step_tokens` tokens.

    Every step but the last is padded to exactly `step_tokens`; the last one to `step_tokens` too, or,
    with `pad_final_to`, only up to the next multiple of that (less wasted compute on small calls).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.size and int(lengths.max()) > min(step_tokens, max_length):
        raise ValueError(f"a row of {int(lengths.max())} tokens does not fit a step of {step_tokens}")
    cum = np.concatenate(([0], np.cumsum(lengths)))
    steps: list[PackedStep] = []
    start, n = 0, int(lengths.size)
    while start < n:  # once per step
        stop = int(np.searchsorted(cum, cum[start] + step_tokens, side="right")) - 1
        stop = min(n, max(stop, start + 1))
        used = int(cum[stop] - cum[start])
        size = step_tokens
        if stop == n and pad_final_to:
            size = min(step_tokens, -(-used // pad_final_to) * pad_final_to)
        pads = _pad_segments(size - used, max_length)
        seglens = np.concatenate((lengths[start:stop], pads))
        cu = np.concatenate(([0], np.cumsum(seglens))).astype(np.int32)
        steps.append(PackedStep(start, stop, size, cu, int(seglens.max())))
        start = stop
    return steps


def step_arrays(
    ids: np.ndarray, token_offsets: np.ndarray, step: PackedStep, pad_id: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, position in own segment, segment index) for every position of `step`, pad segments included.

    `ids` holds the block's tokens end to end and `token_offsets[i]` where row i starts.
    """
    first, last = int(token_offsets[step.row_start]), int(token_offsets[step.row_stop])
    out_ids = np.full(step.tokens, pad_id, dtype=np.int64)
    out_ids[: last - first] = ids[first:last]
    seglens = np.diff(step.cu_seqlens).astype(np.int64)
    segments = np.repeat(np.arange(step.segments, dtype=np.int64), seglens)
    positions = np.arange(step.tokens, dtype=np.int64) - np.repeat(
        step.cu_seqlens[:-1].astype(np.int64), seglens
    )
    return out_ids, positions, segments
