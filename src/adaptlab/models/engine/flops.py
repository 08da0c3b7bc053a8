"""Floating-point work of a BERT-style encoder forward pass: the numerator of the compute bound."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def encoder_flops(config: Any, lengths: Sequence[int]) -> float:
    """FLOPs (2 per multiply-add) to encode rows of the given token lengths, without padding.

    Per token and layer: Q, K, V and output projections 8·d², the feed-forward block 4·d·d_ff, and
    attention scores plus weighted sum 4·L·d for a row of L tokens. Embeddings, norms and pooling are
    memory work and left out, as in the usual model-FLOPs count.
    """
    d = int(config.hidden_size)
    d_ff = int(getattr(config, "intermediate_size", 4 * d))
    layers = int(config.num_hidden_layers)
    total = 0.0
    for length in lengths:
        per_token = 8 * d * d + 4 * d * d_ff + 4 * int(length) * d
        total += layers * int(length) * per_token
    return float(total)
