"""Grouped CPU attention over packed rows gives what one SDPA call per row gives."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from adaptlab.models.engine.segment_attention import (  # noqa: E402
    GroupedSegmentAttention,
    SegmentGroups,
    attention_per_segment,
)


def _bounds(sizes: list[int]) -> list[int]:
    bounds = [0]
    for size in sizes:
        bounds.append(bounds[-1] + size)
    return bounds


def _qkv(tokens: int, seed: int = 0):  # noqa: ANN202 - three [tokens, heads, dim] views of one matrix
    generator = torch.Generator().manual_seed(seed)
    qkv = torch.randn(tokens, 3 * 4 * 8, generator=generator)
    return qkv.view(tokens, 3, 4, 8).unbind(1)


@pytest.mark.parametrize(
    "sizes",
    [
        [3, 7, 1, 12, 5, 9],  # all short: one gather in, one gather out
        [3, 70, 5, 0, 16, 17, 1, 16, 33],  # long and empty rows beside short ones
        [16, 16, 16, 16, 16],  # a group filled exactly
    ],
)
def test_grouped_attention_matches_one_call_per_row(sizes: list[int]) -> None:
    bounds = _bounds(sizes)
    q, k, v = _qkv(bounds[-1])
    cu = torch.tensor(bounds, dtype=torch.int32)
    expected = attention_per_segment(q, k, v, cu, max(sizes), 0.3)
    got = GroupedSegmentAttention(width=32)(q, k, v, cu, max(sizes), 0.3)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_rows_are_packed_first_fit_longest_first() -> None:
    groups = SegmentGroups.plan(_bounds([10, 40, 30, 30, 20]), width=64)
    assert groups is not None
    # 40 → group 0 (24 left), 30 → group 1 (34 left), 30 → group 1 (4 left), 20 → group 0, 10 → group 2
    assert groups.groups == 3
    assert groups.short_tokens is None and groups.long_rows == []
    # each slot sees exactly the slots of its own row: 40 + 20 in group 0
    visible = groups.mask[0, 0].sum(dim=1)
    assert visible[:40].tolist() == [40] * 40 and visible[40:60].tolist() == [20] * 20
    assert visible[60:].tolist() == [1] * 4  # padding sees only itself


def test_only_long_rows_fall_back_to_one_call_each() -> None:
    assert SegmentGroups.plan(_bounds([65, 100]), width=64) is None
    q, k, v = _qkv(165, seed=1)
    cu = torch.tensor(_bounds([65, 100]), dtype=torch.int32)
    torch.testing.assert_close(
        GroupedSegmentAttention(width=64)(q, k, v, cu, 100, 0.2), attention_per_segment(q, k, v, cu, 100, 0.2)
    )


def test_plan_is_made_once_per_step() -> None:
    attention = GroupedSegmentAttention(width=16)
    q, k, v = _qkv(9)
    cu = torch.tensor([0, 4, 9], dtype=torch.int32)
    attention(q, k, v, cu, 5, 0.5)
    first = attention._groups
    attention(q, k, v, cu, 5, 0.5)
    assert attention._groups is first
    attention(q, k, v, cu.clone(), 5, 0.5)
    assert attention._groups is not first
