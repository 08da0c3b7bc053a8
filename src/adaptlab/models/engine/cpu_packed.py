"""Short texts on a CPU in bfloat16, packed: the query encoder a serving process wants.

A search server encodes a few dozen short queries per batch. The padded Hugging Face forward spends
most of that in Python around small float32 products. Here the queries of a batch are laid end to end
(no padding), the transformer runs through `PackedEncoder` with bfloat16 weights, whose matrix products
use the CPU's AMX / AVX512-BF16 units through oneDNN, and each query attends only to itself (short
queries grouped under one masked call per layer, see `segment_attention`). On a 2-core Sapphire Rapids
host (`benchmarks/query_encoder.py`, same run): 32 MiniLM-L6 queries in 70 ms against 115 ms for its fused
int8 ONNX graph and 195 ms for sentence-transformers in float32, with nDCG@10 kept at 99.7-100 %; a
single query is slower than int8 ONNX (16 ms against 4), so this pays where queries arrive together.
Without bfloat16 units the same code runs, several times slower:
`fast_bf16_cpu()` says which case this is.
"""

from __future__ import annotations

import functools
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.errors import AdaptlabError
from adaptlab.models.base import Embedder, l2_normalize
from adaptlab.models.engine.packed_bert import PackedEncoder, packable, pool_segments
from adaptlab.models.engine.st_folder import read_layout

STEP_TOKENS = 8192
"""Tokens per forward: bounds memory on long inputs; a batch of 64 queries is one step."""
SHAPE_STEP = 64
"""Token counts are rounded up to a multiple of this with a dummy row. oneDNN builds a kernel per matrix
shape; with every batch a new token count, a profile of varied batches of 32 MiniLM queries spent 2.8 ms
per query instead of 1.4."""
SMALL_SHAPE_STEP = 16
"""The finer rounding of small steps (up to SMALL_STEPS_UP_TO tokens): a lone 20-token query padded to 64
tokens spends most of its products on the dummy row, and small steps are where a server's batches fall."""
SMALL_STEPS_UP_TO = 256


def rounded_tokens(tokens: int) -> int:
    """The token count a step of `tokens` is padded to: few distinct shapes, little padding."""
    step = SMALL_SHAPE_STEP if tokens <= SMALL_STEPS_UP_TO else SHAPE_STEP
    return -(-tokens // step) * step


@functools.cache
def fast_bf16_cpu() -> bool:
    """True when this CPU multiplies bfloat16 in hardware (AMX or AVX512-BF16; Linux /proc/cpuinfo)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    flags = next(
        (line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), []
    )
    return "amx_bf16" in flags or "avx512_bf16" in flags


def bf16_products_correct() -> bool:
    """True when a bfloat16 matrix product split over PyTorch's threads agrees with float32 here.

    Seen on this project's machines (torch 2.13, AMX): once PIL has loaded a TrueType font, and before
    the process's first bfloat16 product, oneDNN's products come back wrong in the columns that
    PyTorch's second thread computes (zeros or garbage), while one thread and float32 stay right. So
    the encoder checks before trusting bfloat16 and falls back to float32 when the check fails."""
    import torch

    generator = torch.Generator().manual_seed(0)
    a = torch.randn(64, 384, generator=generator)
    w = torch.randn(1536, 384, generator=generator)
    reference = a @ w.T
    got = (a.bfloat16() @ w.bfloat16().T).float()
    return bool((got - reference).abs().max() <= 0.02 * reference.abs().max())


class CpuPackedEncoder(Embedder):
    """A sentence-transformers folder (BERT, RoBERTa or XLM-R; mean or CLS pooling) run packed on CPU.

    Queries get the folder's `query` prompt and documents its `document` prompt, as
    sentence-transformers' `encode_query` / `encode_document` would apply them.
    """

    def __init__(self, folder: Path, name: str | None = None, dtype: str = "bf16") -> None:
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModel

        if dtype not in ("bf16", "fp32"):
            raise AdaptlabError(f"dtype '{dtype}' unknown for the CPU packed encoder; use bf16 or fp32")
        if dtype == "bf16" and not fast_bf16_cpu():
            warnings.warn(
                "this CPU has no bfloat16 units (AMX / AVX512-BF16): bf16 query encoding will be slow; "
                "use query_encoders: onnx-int8 here",
                stacklevel=2,
            )
        if dtype == "bf16" and not bf16_products_correct():
            warnings.warn(
                "bfloat16 matrix products are wrong in this process (see cpu_packed.bf16_products_correct); "
                "encoding in float32 instead",
                stacklevel=2,
            )
            dtype = "fp32"
        self.dtype = dtype
        folder = Path(folder)
        self.layout = read_layout(folder)
        model = AutoModel.from_pretrained(
            str(self.layout.transformer_dir),
            dtype=torch.bfloat16 if dtype == "bf16" else torch.float32,
            local_files_only=True,
        ).eval()
        if not packable(model.config):
            raise AdaptlabError(
                f"{folder}: model type '{model.config.model_type}' cannot run packed; "
                "the CPU packed encoder takes BERT, RoBERTa and XLM-R encoders"
            )
        self.model = model
        self.encoder = PackedEncoder(model, prepack=dtype == "bf16")
        self.max_seq_length = min(self.layout.max_length, int(model.config.max_position_embeddings))
        self.tokenizer: Any = self._tokenizer(Tokenizer)
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        self.name = name or str(folder)
        self.dim = int(model.config.hidden_size)
        self.query_prompt = self.layout.query_prompt
        self.pad_id = int(getattr(model.config, "pad_token_id", None) or 0)

    def _tokenizer(self, tokenizer_class: Any) -> Any:
        if self.layout.tokenizer_file is not None:
            return tokenizer_class.from_file(str(self.layout.tokenizer_file))
        from transformers import AutoTokenizer

        backend = getattr(
            AutoTokenizer.from_pretrained(str(self.layout.transformer_dir), local_files_only=True),
            "backend_tokenizer",
            None,
        )
        if backend is None:
            raise AdaptlabError(
                f"{self.layout.transformer_dir}: the packed encoder needs a fast (Rust) tokenizer"
            )
        with tempfile.TemporaryDirectory(prefix="adaptlab-tokenizer-") as scratch:
            path = Path(scratch) / "tokenizer.json"
            backend.save(str(path))
            return tokenizer_class.from_file(str(path))

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode([self.query_prompt + t for t in texts] if self.query_prompt else list(texts))

    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        prompt = self.layout.document_prompt
        return self._encode([prompt + t for t in texts] if prompt else list(texts))

    def count_tokens(self, texts: Sequence[str]) -> list[int] | None:
        self.tokenizer.no_truncation()
        try:
            return [len(e.ids) for e in self.tokenizer.encode_batch(list(texts))]
        finally:
            self.tokenizer.enable_truncation(max_length=self.max_seq_length)

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = [e.ids for e in self.tokenizer.encode_batch(texts)]
        start = 0
        while start < len(ids):
            end, tokens = start, 0
            while end < len(ids) and (end == start or tokens + len(ids[end]) <= STEP_TOKENS):
                tokens += len(ids[end])
                end += 1
            out[start:end] = self._forward(ids[start:end])
            start = end
        return l2_normalize(out) if self.layout.normalize else out

    def _forward(self, rows: list[list[int]]) -> np.ndarray:
        """Pooled float32 vectors of one packed step."""
        import torch

        sizes = [len(r) for r in rows]
        total = sum(sizes)
        filler = rounded_tokens(total) - total
        if filler:  # a dummy row rounds the step up: few distinct shapes, so oneDNN reuses its kernels
            rows = [*rows, [self.pad_id] * filler]
            sizes.append(filler)
        lengths = torch.tensor(sizes, dtype=torch.int64)
        cu = torch.zeros(len(rows) + 1, dtype=torch.int32)
        cu[1:] = torch.cumsum(lengths, 0)
        ids = torch.tensor([i for r in rows for i in r], dtype=torch.int64)
        segments = torch.repeat_interleave(torch.arange(len(rows)), lengths)
        positions = torch.arange(ids.shape[0]) - cu[:-1].long()[segments]
        longest = int(lengths.max())
        with torch.inference_mode():
            hidden = self.encoder.forward(ids, positions, cu, longest)
            pooled = pool_segments(hidden, segments, cu, len(rows) - bool(filler), self.layout.pooling)
        return pooled.numpy()
