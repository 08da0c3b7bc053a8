"""FastEncoder: sentence embeddings at the speed of the hardware, for large embedding jobs.

The pipeline, per block of texts (tens of thousands):
1. worker processes tokenise shards while the GPU is busy with the previous block;
2. the block is sorted by token length and cut into batches under a token budget, so batches are
   large (the matrix units stay fed) and nearly free of padding;
3. the ids of the whole block go to the GPU in one non-blocking copy from pinned memory, each batch
   is padded on the GPU (`masked_scatter_`), run in bf16 with SDPA attention, pooled and
   normalised there; a batch whose rows are all one length skips the attention mask;
4. the block's vectors come back in input order with one non-blocking copy, read only after the
   next block has been queued.
No Python work per row happens in the loop that feeds the GPU. On CPU the same code runs in float32.
"""

from __future__ import annotations

import queue
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.errors import AdaptlabError
from adaptlab.models.engine.batching import Batch, plan_block
from adaptlab.models.engine.packed_bert import (
    PackedEncoder,
    packable,
    pool_segments,
    varlen_attention_available,
)
from adaptlab.models.engine.packing import PackedStep, plan_packed, step_arrays
from adaptlab.models.engine.st_folder import EncoderLayout, read_layout
from adaptlab.models.engine.tokenize_workers import TokenizedShard, TokenizerPool


@dataclass
class FastEncoderConfig:
    """Knobs of the engine; defaults suit one H100-class GPU, and work on CPU."""

    device: str | None = None
    """cuda, cuda:N or cpu; default cuda when visible."""
    dtype: str = "auto"
    """bf16, fp16, fp32, or fp8 (bf16 model whose matrix products run in float8 with per-token and
    per-channel scales; needs packing and a Hopper/Ada GPU);
    auto = bf16 on GPU (fp16 where bf16 is missing), fp32 on CPU."""
    token_budget: int = 65536
    """Padded tokens per batch: larger fills the GPU better, until memory runs out."""
    max_rows: int = 4096
    block_size: int = 8192
    """Texts planned and returned together: the pipeline's unit. The first block's tokenising overlaps
    nothing, so smaller blocks start the GPU sooner: on an H100, jobs of 33k chunks in blocks of 8,192 ran
    end to end at 94-95 % of the GPU-only rate; 16k chunks in one block of 16,384 at 71 %."""
    first_block: int = 1024
    """Texts in the first block; later blocks double up to `block_size`, so the GPU waits for the
    tokenising of only a small first block."""
    min_uniform_rows: int = 32
    """Rows of one exact length batched alone (no mask, no padding) when at least this many; 0: off."""
    shard_size: int = 512
    """Texts per tokenisation task."""
    workers: int | None = None
    """Tokeniser processes (lowest CPU priority); default all cores but two; 0 tokenises in-process."""
    char_limit: int | None = None
    """Tokenise texts from a prefix this long first (exact, see tokenize_workers); default 8 x window."""
    cudnn_attention: bool = False
    """Allow SDPA's cuDNN backend. Off: it builds a plan per new (rows, length) shape, tens of ms each,
    which on an H100 cut MiniLM from 16.5k to 1.4k chunks/s until every shape had been seen once."""
    residual_in_gemm: bool = True
    """Packed only: the output and down projections accumulate onto the residual in place, so each
    LayerNorm kernel reads one matrix instead of two (H100, 24-layer encoder: -1.5 % step time)."""
    compile: bool | None = None
    """torch.compile: the element-wise work around the matrix products when packed (static shapes,
    compiled once, ~3 s), else the whole transformer (dynamic shapes). None: on when packed on a GPU; a
    compile failure falls back to eager kernels with a warning."""
    packing: str = "auto"
    """on: padding-free packed steps with variable-length flash attention (BERT, RoBERTa, XLM-R);
    off: length-sorted padded batches through the Hugging Face forward; auto: on where a CUDA GPU
    and the model allow it."""
    gelu_epilogue: bool = True
    """Packed only: bias + GELU inside the matrix product (cuBLASLt), tanh-approximate GELU; on an H100
    +7 % for a 24-layer encoder, vectors within cosine 0.99998 of float32."""


def _resolve_dtype(name: str, device: str) -> Any:
    import torch

    if name == "auto":
        if not device.startswith("cuda"):
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    table = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32, "fp8": torch.bfloat16}
    if name not in table:
        raise AdaptlabError(f"dtype '{name}' unknown; use one of auto, {', '.join(table)}")
    return table[name]


def _tokenizer_file(layout: EncoderLayout, scratch: Path) -> Path:
    """tokenizer.json of the model, written from the HF fast tokenizer when the folder has none."""
    if layout.tokenizer_file is not None:
        return layout.tokenizer_file
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(layout.transformer_dir), local_files_only=True)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise AdaptlabError(f"{layout.transformer_dir}: the fast encoder needs a fast (Rust) tokenizer")
    path = scratch / "tokenizer.json"
    backend.save(str(path))
    return path


def gather_in_order(shard: TokenizedShard, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lengths in `order`, ids concatenated in `order`) — vectorised, no loop over rows."""
    lengths = shard.lengths.astype(np.int64)[order]
    starts = shard.offsets[:-1][order]
    csum = np.concatenate(([0], np.cumsum(lengths)))
    gather = np.repeat(starts - csum[:-1], lengths) + np.arange(int(csum[-1]))
    return lengths, shard.ids[gather]


@dataclass
class _PreparedBlock:
    rows: int
    order: Any
    lengths: np.ndarray
    token_starts: np.ndarray
    batches: list[Batch]
    ids: Any
    lengths_dev: Any


@dataclass
class _PackedBlock:
    rows: int
    steps: list[PackedStep]
    token_starts: np.ndarray
    """where each step starts in `ids`/`positions`/`segments`"""
    cu_starts: np.ndarray
    """where each step's offsets start in `cu`"""
    ids: Any
    positions: Any
    segments: Any
    cu: Any


def _use_packing(mode: str, device: str, config: Any) -> bool:
    if mode not in ("auto", "on", "off"):
        raise AdaptlabError(f"packing '{mode}' unknown; use auto, on or off")
    if mode == "off":
        return False
    if mode == "on":
        if not packable(config):
            raise AdaptlabError(
                f"packing: model type '{getattr(config, 'model_type', '?')}' cannot run packed; use packing: off"
            )
        return True
    return device.startswith("cuda") and packable(config) and varlen_attention_available(device)


class FastEncoder:
    """Encode documents with a sentence-transformers (or bare HF encoder) folder; see module docstring."""

    def __init__(self, folder: Path, config: FastEncoderConfig | None = None) -> None:
        import torch
        from transformers import AutoModel

        self.config = config or FastEncoderConfig()
        self.layout = read_layout(Path(folder))
        self.device = self.config.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.dtype = _resolve_dtype(self.config.dtype, self.device)
        self._scratch = tempfile.TemporaryDirectory(prefix="adaptlab-engine-")
        self.tokenizer_file = _tokenizer_file(self.layout, Path(self._scratch.name))
        model = AutoModel.from_pretrained(
            str(self.layout.transformer_dir),
            dtype=self.dtype,
            attn_implementation="sdpa",
            local_files_only=True,
        )
        self.model = model.to(self.device).eval()
        self.hf_config = model.config
        self.max_length = min(
            self.layout.max_length, int(getattr(model.config, "max_position_embeddings", 512))
        )
        self.dim = int(model.config.hidden_size)
        self.packed: PackedEncoder | None = None
        if _use_packing(self.config.packing, self.device, model.config):
            self.packed = PackedEncoder(
                self.model,
                self.device.startswith("cuda") if self.config.compile is None else self.config.compile,
                self.config.gelu_epilogue,
                fp8=self.config.dtype == "fp8",
                residual_in_gemm=self.config.residual_in_gemm,
            )
            self._pad_id = int(getattr(model.config, "pad_token_id", None) or 0)
        elif self.config.dtype == "fp8":
            raise AdaptlabError("dtype fp8 runs only packed (a BERT-family model on a CUDA GPU); use bf16")
        compile_hf = bool(self.config.compile) and self.packed is None
        self._forward: Callable[..., Any] = (
            torch.compile(self.model, dynamic=True) if compile_hf else self.model
        )
        self._positions = torch.arange(self.max_length, device=self.device)
        self._pinned = self.device.startswith("cuda")
        self._pool: TokenizerPool | None = None

    # ------------------------------------------------------------------ public

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """L2-normalised float32 vectors (if the model normalises) for `texts`, in input order."""
        prompt = self.layout.document_prompt
        items = [prompt + t for t in texts] if prompt else texts
        return self.encode_shards(self.pool.shards(items, self.config.shard_size), len(items), progress)

    @property
    def pool(self) -> TokenizerPool:
        """The tokeniser workers, started on first use and kept until `close()` (starting costs ~1 s)."""
        if self._pool is None:
            limit = self.config.char_limit if self.config.char_limit is not None else 8 * self.max_length
            self._pool = TokenizerPool(self.tokenizer_file, self.max_length, self.config.workers, limit)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        self._scratch.cleanup()

    def __enter__(self) -> FastEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def encode_shards(
        self, shards: Iterator[TokenizedShard], total: int, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Vectors for pre-tokenised shards (ids with special tokens, already truncated to the window).

        A feeder thread pulls shards, sorts and plans each block and stages its ids in pinned memory
        while this thread queues the previous block's batches on the GPU.
        """
        out = np.empty((total, self.dim), dtype=np.float32)
        prepared: queue.Queue[_PreparedBlock | _PackedBlock | BaseException | None] = queue.Queue(maxsize=2)
        stop = threading.Event()

        def feed() -> None:
            try:
                for block in self._blocks(shards):
                    item = self._prepare(block)
                    while not stop.is_set():
                        try:
                            prepared.put(item, timeout=0.5)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
            except BaseException as exc:  # handed to the consumer, which re-raises it
                prepared.put(exc)
            else:
                prepared.put(None)

        feeder = threading.Thread(target=feed, name="adaptlab-encode-feeder", daemon=True)
        feeder.start()
        pending: tuple[int, int, Any, Any] | None = None
        filled = 0
        try:
            while (item := prepared.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                handle = self._launch(item)
                if pending is not None:
                    filled += self._collect(out, pending, progress)
                pending = (filled, item.rows, *handle)
            if pending is not None:
                filled += self._collect(out, pending, progress)
        finally:
            stop.set()
            feeder.join(timeout=5)
        if filled != total:
            raise AdaptlabError(f"encoded {filled} texts but expected {total}")
        return out

    # ------------------------------------------------------------------ internals

    def _blocks(self, shards: Iterator[TokenizedShard]) -> Iterator[TokenizedShard]:
        """Shards grouped into blocks of `first_block` texts, doubling up to `block_size`."""
        buffer: list[TokenizedShard] = []
        rows = 0
        size = min(max(1, self.config.first_block), self.config.block_size)
        for shard in shards:
            buffer.append(shard)
            rows += len(shard.lengths)
            if rows >= size:
                yield TokenizedShard.concat(buffer)
                buffer, rows = [], 0
                size = min(2 * size, self.config.block_size)
        if buffer:
            yield TokenizedShard.concat(buffer)

    def _to_device(self, array: np.ndarray) -> Any:
        import torch

        tensor = torch.from_numpy(np.ascontiguousarray(array))
        if self._pinned:
            tensor = tensor.pin_memory()
        return tensor.to(self.device, non_blocking=self._pinned)

    def _prepare(self, block: TokenizedShard) -> _PreparedBlock | _PackedBlock:
        if self.packed is not None:
            return self._prepare_packed(block)
        return self._prepare_padded(block)

    def _prepare_packed(self, block: TokenizedShard) -> _PackedBlock:
        """Host work for a packed block (feeder thread): steps, their ids/positions/segments, one copy."""
        assert self.packed is not None
        cfg = self.config
        step_tokens = max(cfg.token_budget, self.max_length)
        # compiled kernels want one shape for every step; eager ones waste less on the last step
        pad_final_to = None if self.packed.compiled else 256
        steps = plan_packed(block.lengths, step_tokens, self.max_length, pad_final_to)
        parts = [step_arrays(block.ids, block.offsets, step, self._pad_id) for step in steps]
        token_starts = np.concatenate(([0], np.cumsum([step.tokens for step in steps])))
        cu_starts = np.concatenate(([0], np.cumsum([step.segments + 1 for step in steps])))
        return _PackedBlock(
            rows=len(block.lengths),
            steps=steps,
            token_starts=token_starts,
            cu_starts=cu_starts,
            ids=self._to_device(np.concatenate([p[0] for p in parts])),
            positions=self._to_device(np.concatenate([p[1] for p in parts])),
            segments=self._to_device(np.concatenate([p[2] for p in parts])),
            cu=self._to_device(np.concatenate([step.cu_seqlens for step in steps])),
        )

    def _prepare_padded(self, block: TokenizedShard) -> _PreparedBlock:
        """Host work for a block (feeder thread): plan, reorder ids, copy to the device without blocking."""
        cfg = self.config
        order, batches = plan_block(block.lengths, cfg.token_budget, cfg.max_rows, cfg.min_uniform_rows)
        lengths, ids = gather_in_order(block, order)
        return _PreparedBlock(
            rows=len(order),
            order=self._to_device(order),
            lengths=lengths,
            token_starts=np.concatenate(([0], np.cumsum(lengths))),
            batches=batches,
            ids=self._to_device(ids.astype(np.int64)),
            lengths_dev=self._to_device(lengths),
        )

    def _launch(self, block: _PreparedBlock | _PackedBlock) -> tuple[Any, Any]:
        """Queue the whole block on the device; returns (host tensor being filled, ready event)."""
        import torch

        with torch.inference_mode():
            if isinstance(block, _PackedBlock):
                vectors = self._run_packed(block)
            else:
                vectors = self._run_padded(block)
            if self.layout.normalize:
                vectors = torch.nn.functional.normalize(vectors, dim=1)
            if not self._pinned:
                return vectors, None
            host = torch.empty(vectors.shape, dtype=torch.float32, pin_memory=True)
            host.copy_(vectors, non_blocking=True)
            event = torch.cuda.Event()
            event.record()
            return host, event

    def _run_padded(self, block: _PreparedBlock) -> Any:
        import torch

        lengths, starts = block.lengths, block.token_starts
        pooled = torch.empty((block.rows, self.dim), dtype=torch.float32, device=self.device)
        for batch in block.batches:
            flat = block.ids[int(starts[batch.start]) : int(starts[batch.stop])]
            uniform = lengths[batch.start] == lengths[batch.stop - 1] == batch.length
            pooled[batch.start : batch.stop] = self._run_batch(flat, block.lengths_dev, batch, bool(uniform))
        vectors = torch.empty_like(pooled)
        vectors[block.order] = pooled
        return vectors

    def _run_packed(self, block: _PackedBlock) -> Any:
        import torch

        assert self.packed is not None
        vectors = torch.empty((block.rows, self.dim), dtype=torch.float32, device=self.device)
        for i, step in enumerate(block.steps):
            tokens = slice(int(block.token_starts[i]), int(block.token_starts[i + 1]))
            cu = block.cu[int(block.cu_starts[i]) : int(block.cu_starts[i + 1])]
            hidden = self.packed.forward(block.ids[tokens], block.positions[tokens], cu, step.max_length)
            vectors[step.row_start : step.row_stop] = pool_segments(
                hidden, block.segments[tokens], cu, step.rows, self.layout.pooling
            )
        return vectors

    def _run_batch(self, flat: Any, lengths_dev: Any, batch: Batch, uniform: bool) -> Any:
        import torch

        rows, length = batch.rows, batch.length
        lengths = lengths_dev[batch.start : batch.stop]
        if uniform:
            input_ids = flat.view(rows, length)
            mask = None
        else:
            mask = self._positions[:length].unsqueeze(0) < lengths.unsqueeze(1)
            input_ids = torch.zeros((rows, length), dtype=flat.dtype, device=flat.device)
            input_ids.masked_scatter_(mask, flat)
        with self._attention_backends():
            hidden = self._forward(input_ids=input_ids, attention_mask=mask).last_hidden_state
        if self.layout.pooling == "cls":
            return hidden[:, 0].float()
        if mask is None:
            return hidden.float().mean(dim=1)
        weights = mask.to(hidden.dtype).unsqueeze(1)
        summed = torch.bmm(weights, hidden).squeeze(1).float()
        return summed / lengths.unsqueeze(1).to(torch.float32)

    def _attention_backends(self) -> Any:
        import contextlib

        if self.config.cudnn_attention or not self.device.startswith("cuda"):
            return contextlib.nullcontext()
        from torch.nn.attention import SDPBackend, sdpa_kernel

        return sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH])

    def _collect(
        self, out: np.ndarray, pending: tuple[int, int, Any, Any], progress: Callable[[int], None] | None
    ) -> int:
        start, rows, host, event = pending
        if event is not None:
            event.synchronize()
        out[start : start + rows] = host.numpy()
        if progress:
            progress(rows)
        return rows
