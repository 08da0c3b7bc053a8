"""Attention over packed rows: each row (segment) of a [tokens, heads, head_dim] step attends only to itself.

On CUDA one variable-length flash-attention call does this (`attention_varlen`). PyTorch has no such
kernel for CPUs, and one SDPA call per row costs ~100 us whatever the row's length: for 32 queries of
~15 tokens, attention took ~45 % of a MiniLM forward on 2 cores (one call per query per layer), for
~1 % of its FLOPs. `GroupedSegmentAttention` lays the short rows side by side in a few groups of
`GROUP_WIDTH` tokens (first-fit, longest first) and runs one masked SDPA call for all groups, each row
seeing only its own tokens; rows longer than a group keep one call each, where the call's cost is
amortised over the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GROUP_WIDTH = 64
"""Tokens per group: the masked attention's cost grows with width², its fixed per-call cost with the group
count. In benchmarks/cpu_segment_attention.py widths 32 and 64 tie for 32 queries and 64 is ahead for 64; 64
also groups questions of up to 64 tokens."""


def attention_varlen(q: Any, k: Any, v: Any, cu: Any, max_length: int, scale: float) -> Any:
    """Flash attention over packed rows on CUDA (the aten op under `torch.nn.attention.varlen`, without
    its log-sum-exp and RNG bookkeeping)."""
    import torch

    return torch.ops.aten._flash_attention_forward(
        q, k, v, cu, cu, max_length, max_length, 0.0, False, False, scale=scale
    )[0]


def attention_per_segment(q: Any, k: Any, v: Any, cu: Any, max_length: int, scale: float) -> Any:
    """One SDPA call per row: the plain reference, and what long rows get."""
    import torch

    out = torch.empty_like(q)
    bounds = cu.tolist()
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b > a:
            _attend_span(q, k, v, out, a, b, scale)
    return out


def _attend_span(q: Any, k: Any, v: Any, out: Any, a: int, b: int, scale: float) -> None:
    import torch

    seg = [t[a:b].transpose(0, 1).unsqueeze(0) for t in (q, k, v)]
    out[a:b] = torch.nn.functional.scaled_dot_product_attention(*seg, scale=scale)[0].transpose(0, 1)


@dataclass
class SegmentGroups:
    """Where each token of the short rows sits in the [groups, width] layout, and who sees whom there."""

    width: int
    groups: int
    gather: Any
    """[groups * width] token index for each slot (padding slots read token 0; nobody attends to them)."""
    slots: Any
    """[short tokens] slot of each short row's token, in token order."""
    short_tokens: Any | None
    """Token indices of the short rows; None when every row is short (then `slots` covers all tokens)."""
    mask: Any
    """[groups, 1, width, width] bool: query slot may attend key slot (same row; padding sees itself)."""
    long_rows: list[tuple[int, int]]
    """(start, end) of the rows longer than `width`."""

    @staticmethod
    def plan(bounds: list[int], width: int = GROUP_WIDTH) -> SegmentGroups | None:
        """Pack the rows of `bounds` (cu_seqlens as a list) of at most `width` tokens into groups,
        first-fit after sorting by length; None when no row is that short."""
        import torch

        sizes = [b - a for a, b in zip(bounds[:-1], bounds[1:])]
        short = sorted((i for i, s in enumerate(sizes) if 0 < s <= width), key=lambda i: -sizes[i])
        if not short:
            return None
        free: list[int] = []
        place: dict[int, int] = {}  # row -> first slot
        for row in short:
            group = next((g for g, room in enumerate(free) if room >= sizes[row]), None)
            if group is None:
                group = len(free)
                free.append(width)
            place[row] = group * width + width - free[group]
            free[group] -= sizes[row]
        groups = len(free)
        rows = sorted(place)  # token order
        starts = torch.tensor([bounds[r] for r in rows])
        lengths = torch.tensor([sizes[r] for r in rows])
        firsts = torch.tensor([place[r] for r in rows])
        row_of_token = torch.repeat_interleave(torch.arange(len(rows)), lengths)
        offset = torch.arange(int(lengths.sum())) - (torch.cumsum(lengths, 0) - lengths)[row_of_token]
        tokens = starts[row_of_token] + offset
        slots = firsts[row_of_token] + offset
        gather = torch.zeros(groups * width, dtype=torch.int64)
        gather[slots] = tokens
        owner = torch.full((groups * width,), -1, dtype=torch.int64)
        owner[slots] = row_of_token
        owner = owner.view(groups, width)
        mask = (owner[:, :, None] == owner[:, None, :]) & (owner[:, None, :] >= 0)
        mask |= torch.eye(width, dtype=torch.bool)
        long_rows = [(bounds[i], bounds[i + 1]) for i, s in enumerate(sizes) if s > width]
        return SegmentGroups(
            width=width,
            groups=groups,
            gather=gather,
            slots=slots,
            short_tokens=tokens if long_rows else None,  # every non-empty row is short or long
            mask=mask.unsqueeze(1),
            long_rows=long_rows,
        )

    def attend(self, q: Any, k: Any, v: Any, scale: float) -> Any:
        """[tokens, heads, head_dim] attention output; q, k, v as `attention_per_segment` takes them."""
        import torch

        tokens, heads, dim = q.shape
        grouped = [t.index_select(0, self.gather).view(self.groups, self.width, heads, dim).transpose(1, 2)
                   for t in (q, k, v)]
        out = torch.nn.functional.scaled_dot_product_attention(*grouped, attn_mask=self.mask, scale=scale)
        by_slot = out.transpose(1, 2).reshape(self.groups * self.width, heads, dim)
        if self.short_tokens is None:
            return by_slot.index_select(0, self.slots)
        result = torch.empty_like(q)
        result[self.short_tokens] = by_slot.index_select(0, self.slots)
        for a, b in self.long_rows:
            _attend_span(q, k, v, result, a, b, scale)
        return result


class GroupedSegmentAttention:
    """CPU attention over packed rows through `SegmentGroups`; called once per layer with the same
    `cu` tensor, so the grouping is planned once per forward (kept for the `cu` it was made for)."""

    def __init__(self, width: int = GROUP_WIDTH) -> None:
        self.width = width
        self._cu: Any = None
        self._groups: SegmentGroups | None = None

    def __call__(self, q: Any, k: Any, v: Any, cu: Any, max_length: int, scale: float) -> Any:
        if cu is not self._cu:
            self._groups = SegmentGroups.plan(cu.tolist(), self.width)
            self._cu = cu  # held, so its id cannot be reused by a later step's tensor
        if self._groups is None:
            return attention_per_segment(q, k, v, cu, max_length, scale)
        return self._groups.attend(q, k, v, scale)
