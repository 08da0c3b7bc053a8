"""Where the packed forward's GPU time goes, for the 24-layer 1024-d encoder (random weights).

Measures on one CUDA GPU, for one packed step of chunks 394..512 tokens long:
  forward      ms per step (and chunks/s) for eager / compiled / compiled + GELU epilogue, and for
               three step sizes with the fastest setting;
  profile      the top CUDA kernels of that forward, by share of device time;
  attention    one layer's attention: variable-length flash (what the engine runs), the same after a
               pad copy into [rows, 512] for SDPA's cuDNN / flash kernels, exact-length dense batches,
               and FlexAttention with a document block mask;
  gemm         the four matrix products of a layer in bf16 against float8 with row-wise scales.
Writes docs/results/gpu_packed_probe.json. Prints a message and exits 0 where there is no CUDA GPU.

    python benchmarks/gpu_packed_probe.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def timed_ms(fn: Callable[[], Any], reps: int = 10) -> float:
    import torch

    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    return round((time.perf_counter() - start) / reps * 1e3, 3)


def attempt(fn: Callable[[], Any], reps: int = 10) -> float | str:
    try:
        return timed_ms(fn, reps)
    except Exception as exc:  # a backend missing on this GPU is a result, not a failure
        return f"{type(exc).__name__}: {str(exc)[:160]}"


def packed_step(step_tokens: int, rng: np.random.Generator) -> tuple[Any, list[Any], Any]:
    import torch

    from adaptlab.models.engine.packing import plan_packed, step_arrays

    lengths = rng.integers(394, 513, 2 * step_tokens // 394)
    step = plan_packed(lengths, step_tokens, 512)[0]
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    ids = rng.integers(1000, 20000, int(offsets[-1]))
    arrays = [torch.from_numpy(a).cuda() for a in step_arrays(ids, offsets, step, 0)]
    return step, arrays, torch.from_numpy(step.cu_seqlens).cuda()


def forward_rates(model: Any, rng: np.random.Generator) -> dict[str, Any]:
    from adaptlab.models.engine.packed_bert import PackedEncoder

    out: dict[str, Any] = {}
    settings = [("eager", False, False), ("compiled", True, False), ("compiled+gelu-epilogue", True, True)]
    for name, compile_, epilogue in settings:
        encoder = PackedEncoder(model, compile=compile_, gelu_epilogue=epilogue)
        for tokens in [32768, 65536, 131072] if epilogue else [65536]:
            step, (ids, positions, _), cu = packed_step(tokens, rng)
            ms = timed_ms(lambda: encoder.forward(ids, positions, cu, step.max_length), 5)  # noqa: B023 - timed at once
            out[f"{name} {tokens} tokens"] = {
                "ms": ms,
                "rows": step.rows,
                "chunks_per_s": round(step.rows / ms * 1e3),
            }
            print(
                f"forward {name:24} {tokens:7} tokens: {ms:7.2f} ms -> {step.rows / ms * 1e3:6.0f} chunks/s",
                flush=True,
            )
    return out


def kernel_profile(model: Any, rng: np.random.Generator) -> list[list[Any]]:
    import torch
    from torch.profiler import ProfilerActivity, profile

    from adaptlab.models.engine.packed_bert import PackedEncoder

    encoder = PackedEncoder(model, compile=True, gelu_epilogue=True)
    step, (ids, positions, _), cu = packed_step(65536, rng)
    for _ in range(2):
        encoder.forward(ids, positions, cu, step.max_length)
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(3):
            encoder.forward(ids, positions, cu, step.max_length)
        torch.cuda.synchronize()
    events = sorted(prof.key_averages(), key=lambda e: e.device_time_total, reverse=True)
    total = sum(e.device_time_total for e in events) or 1.0
    rows = [
        [round(e.device_time_total / total, 3), e.count, round(e.device_time_total / e.count, 1), e.key[:100]]
        for e in events[:10]
    ]
    for share, count, micros, key in rows:
        print(f"  {share:6.1%} {count:5d} x {micros:8.1f} us  {key}", flush=True)
    return rows


def attention_variants(rng: np.random.Generator) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from adaptlab.models.engine.segment_attention import attention_varlen as _attention_varlen

    tokens, heads, dim, window = 65536, 16, 64, 512
    lengths: list[int] = []
    while sum(lengths) + window <= tokens:
        lengths.append(int(rng.integers(394, 513)))
    lengths.append(tokens - sum(lengths))
    cu = torch.tensor(np.concatenate(([0], np.cumsum(lengths))), dtype=torch.int32, device="cuda")
    rows, longest = len(lengths), max(lengths)
    qkv = torch.randn(tokens, 3, heads, dim, device="cuda", dtype=torch.bfloat16)
    q, k, v = qkv.unbind(1)
    out: dict[str, Any] = {"varlen_flash": attempt(lambda: _attention_varlen(q, k, v, cu, longest, 0.125))}
    sizes = torch.tensor(lengths, device="cuda")
    position = torch.arange(tokens, device="cuda") - torch.repeat_interleave(cu[:-1].long(), sizes)
    target = torch.repeat_interleave(torch.arange(rows, device="cuda"), sizes) * window + position

    def pad() -> Any:
        padded = torch.zeros(rows * window, 3, heads, dim, device="cuda", dtype=torch.bfloat16)
        return padded.index_copy_(0, target, qkv)

    out["pad_copy_to_rows_x_512"] = attempt(pad)
    pq, pk, pv = pad().view(rows, window, 3, heads, dim).permute(2, 0, 3, 1, 4)
    exact = torch.randn(145, heads, 452, dim, device="cuda", dtype=torch.bfloat16)
    for name, backend in [("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)]:

        def padded_sdpa(backend: Any = backend) -> Any:
            with sdpa_kernel([backend]):
                return F.scaled_dot_product_attention(pq, pk, pv)

        def exact_sdpa(backend: Any = backend) -> Any:
            with sdpa_kernel([backend]):
                return F.scaled_dot_product_attention(exact, exact, exact)

        out[f"dense_{name}_rows_x_512_unmasked"] = attempt(padded_sdpa)
        out[f"dense_{name}_145_x_452"] = attempt(exact_sdpa)
    try:
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention

        documents = torch.repeat_interleave(torch.arange(rows, device="cuda"), sizes)

        def same_document(b: Any, h: Any, qi: Any, ki: Any) -> Any:
            return documents[qi] == documents[ki]

        mask = create_block_mask(same_document, None, None, tokens, tokens, device="cuda")
        flex = torch.compile(flex_attention)
        fq, fk, fv = (t.transpose(0, 1).unsqueeze(0) for t in (q, k, v))
        out["flex_document_mask"] = attempt(lambda: flex(fq, fk, fv, block_mask=mask))
        out["flex_block_mask_build"] = attempt(
            lambda: create_block_mask(same_document, None, None, tokens, tokens, device="cuda"), 2
        )
    except Exception as exc:
        out["flex_document_mask"] = f"{type(exc).__name__}: {str(exc)[:160]}"
    for key, value in out.items():
        print(f"attention {key:36} {value}", flush=True)
    return out


def gemm_rates() -> dict[str, Any]:
    import torch

    tokens = 65536
    out: dict[str, Any] = {}
    for name, (k, n) in {
        "qkv": (1024, 3072),
        "out": (1024, 1024),
        "up": (1024, 4096),
        "down": (4096, 1024),
    }.items():
        x = torch.randn(tokens, k, device="cuda", dtype=torch.bfloat16)
        w = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
        x8, w8 = x.to(torch.float8_e4m3fn), w.to(torch.float8_e4m3fn)
        scale_a, scale_b = torch.ones(tokens, 1, device="cuda"), torch.ones(1, n, device="cuda")
        bf16 = timed_ms(lambda: x @ w.t())  # noqa: B023 - timed at once
        fp8 = attempt(
            lambda: torch._scaled_mm(x8, w8.t(), scale_a=scale_a, scale_b=scale_b, out_dtype=torch.bfloat16)  # noqa: B023
        )
        tflop = 2 * tokens * k * n / 1e12
        out[name] = {
            "bf16_ms": bf16,
            "bf16_tflops": round(tflop / bf16 * 1e3),
            "fp8_rowwise_ms": fp8,
            "fp8_tflops": round(tflop / fp8 * 1e3) if isinstance(fp8, float) else None,
        }
        print(f"gemm {name:5} {out[name]}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=Path("docs/results/gpu_packed_probe.json"))
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("gpu_packed_probe: no CUDA GPU visible here; nothing measured (run it on a machine with one).")
        return 0
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=30522,
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=4096,
    )
    torch.manual_seed(0)
    model = BertModel(config).to(torch.bfloat16).cuda().eval()
    rng = np.random.default_rng(0)
    report: dict[str, Any] = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__}
    with torch.inference_mode():
        report["forward"] = forward_rates(model, rng)
        report["profile_compiled_gelu_epilogue"] = kernel_profile(model, rng)
        report["attention_one_layer_ms"] = attention_variants(rng)
        report["gemm"] = gemm_rates()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
