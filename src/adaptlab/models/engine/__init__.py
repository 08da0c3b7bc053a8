"""The throughput encode engine: parallel tokenisation, token-budget batches, overlapped GPU compute.

`FastEncoder` is what `adaptlab embed` uses for sentence-transformers models on a GPU, and what
`benchmarks/gpu_embed.py` measures against plain `SentenceTransformer.encode`.
"""

from adaptlab.models.engine.batching import Batch, plan_batches, plan_block
from adaptlab.models.engine.fast_encoder import FastEncoder, FastEncoderConfig
from adaptlab.models.engine.flops import encoder_flops
from adaptlab.models.engine.tokenize_workers import TokenizedShard, TokenizerPool

__all__ = [
    "Batch",
    "FastEncoder",
    "FastEncoderConfig",
    "TokenizedShard",
    "TokenizerPool",
    "encoder_flops",
    "plan_batches",
    "plan_block",
]
