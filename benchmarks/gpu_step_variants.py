"""GPU time of one packed step under the packed forward's options (24-layer 1024-d encoder, random weights).

Measures on one CUDA GPU, for 65,536-token steps of chunks 394..512 tokens long:
  attention  one layer's attention: variable-length flash (FA2) against cuDNN's fused kernel on the same
             packed layout, with the exact segment count and with the count rounded up to a multiple of
             64 by empty segments; then three different steps of one rounded count in turn (a cuDNN plan
             rebuilt per step would show here); the largest difference from flash on real tokens.
  step       the defaults (compiled, GELU epilogue, flash); + cuDNN attention; + residual in the matrix
             product; both; each again with PyTorch's TunableOp; the fastest replayed as a CUDA graph.
  cosine     each variant's mean-pooled vectors for 16 rows against a float32 Hugging Face forward.
Writes docs/results/gpu_step_variants.json. Prints a message and exits 0 where there is no CUDA GPU.

    python benchmarks/gpu_step_variants.py
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from gpu_packed_probe import attempt, timed_ms  # benchmarks/ is on the path when run as a script

STEP_TOKENS = 65536
WINDOW = 512
MULTIPLE = 64
REFERENCE_ROWS = 16


def _attention_cudnn(q: Any, k: Any, v: Any, cu: Any, max_length: int, scale: float) -> Any:
    """cuDNN's fused attention over packed rows (the ragged layout PyTorch's nested tensors use)."""
    import torch

    return torch.ops.aten._cudnn_attention_forward(
        q, k, v, None, cu, cu, max_length, max_length, False, 0.0, False, False, scale=scale
    )[0]


def make_step(seed: int, multiple: int) -> dict[str, Any]:
    """One packed step (device tensors) and the token ids of its first rows, for the reference.

    With `multiple` > 1, empty segments at the end round the segment count up to a multiple of it (a
    cuDNN plan is built per segment count and max length).
    """
    import torch

    from adaptlab.models.engine.packing import plan_packed, step_arrays

    rng = np.random.default_rng(seed)
    lengths = rng.integers(394, WINDOW + 1, 2 * STEP_TOKENS // 394)
    step = plan_packed(lengths, STEP_TOKENS, WINDOW)[0]
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    ids = rng.integers(1000, 20000, int(offsets[-1]))
    arrays = [torch.from_numpy(a).cuda() for a in step_arrays(ids, offsets, step, 0)]
    cu = np.concatenate((step.cu_seqlens, np.full(-step.segments % multiple, STEP_TOKENS, dtype=np.int32)))
    return {
        "step": step,
        "segment_count": len(cu) - 1,
        "ids": arrays[0],
        "positions": arrays[1],
        "segments": arrays[2],
        "cu": torch.from_numpy(cu).cuda(),
        "rows": [ids[offsets[i] : offsets[i + 1]] for i in range(REFERENCE_ROWS)],
    }


def attention_section(seed: int) -> dict[str, Any]:
    import torch

    from adaptlab.models.engine.segment_attention import attention_varlen as _attention_varlen

    exact, rounded = make_step(seed, 1), make_step(seed, MULTIPLE)
    real = int(exact["step"].cu_seqlens[exact["step"].rows])
    qkv = torch.randn(STEP_TOKENS, 3, 16, 64, device="cuda", dtype=torch.bfloat16)
    q, k, v = qkv.unbind(1)
    cu, longest = exact["cu"], exact["step"].max_length
    reference = _attention_varlen(q, k, v, cu, longest, 0.125)
    out: dict[str, Any] = {
        "segments_exact": exact["segment_count"],
        "segments_rounded": rounded["segment_count"],
        "flash_ms": attempt(lambda: _attention_varlen(q, k, v, cu, longest, 0.125)),
    }
    cases = {
        "cudnn_exact_count": (q, k, v, cu, longest),
        "cudnn_rounded_count_max512": (q, k, v, rounded["cu"], WINDOW),
        "cudnn_rounded_contiguous": (q.contiguous(), k.contiguous(), v.contiguous(), rounded["cu"], WINDOW),
    }
    for name, (a, b, c, offsets, length) in cases.items():
        out[f"{name}_ms"] = attempt(lambda: _attention_cudnn(a, b, c, offsets, length, 0.125))  # noqa: B023
        try:
            got = _attention_cudnn(a, b, c, offsets, length, 0.125)
            out[f"{name}_max_abs_diff"] = float((got[:real] - reference[:real]).abs().max())
        except Exception as exc:
            out[f"{name}_max_abs_diff"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    others = [make_step(seed + i, MULTIPLE) for i in (1, 2, 3)]
    out["three_steps_segments"] = [s["segment_count"] for s in others]
    cycle = iter(range(10**9))

    def rotating() -> Any:
        s = others[next(cycle) % 3]
        return _attention_cudnn(q, k, v, s["cu"], WINDOW, 0.125)

    out["cudnn_three_steps_rotating_ms"] = attempt(rotating, reps=30)
    for key, value in out.items():
        print(f"attention {key:40} {value}", flush=True)
    return out


def reference_vectors(model: Any, rows: list[np.ndarray]) -> Any:
    """Mean-pooled float32 Hugging Face vectors of `rows` (no TF32)."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    ref = copy.deepcopy(model).float()
    vectors = [
        ref(input_ids=torch.from_numpy(r).cuda().unsqueeze(0)).last_hidden_state[0].mean(0) for r in rows
    ]
    del ref
    return torch.stack(vectors)


def step_section(model: Any, seed: int, tuned: bool, reference: Any) -> dict[str, Any]:
    import torch

    from adaptlab.models.engine.packed_bert import PackedEncoder, pool_segments

    exact, rounded = make_step(seed, 1), make_step(seed, MULTIPLE)
    out: dict[str, Any] = {}
    for attention in ("flash", "cudnn"):
        for residual in (False, True):
            name = f"{attention}{' +residual-in-gemm' if residual else ''}{' +tunableop' if tuned else ''}"
            data = exact if attention == "flash" else rounded
            longest = data["step"].max_length if attention == "flash" else WINDOW
            try:
                encoder = PackedEncoder(model, compile=True, gelu_epilogue=True, residual_in_gemm=residual)
                if attention == "cudnn":
                    encoder._attention = _attention_cudnn

                def run(encoder: Any = encoder, data: dict[str, Any] = data, longest: int = longest) -> Any:
                    return encoder.forward(data["ids"], data["positions"], data["cu"], longest)

                ms = timed_ms(run)
                hidden = run()
                pooled = pool_segments(hidden, data["segments"], data["cu"], REFERENCE_ROWS, "mean")
                cosine = torch.nn.functional.cosine_similarity(pooled, reference).min().item()
                rows = data["step"].rows
                out[name] = {"ms": ms, "chunks_per_s": round(rows / ms * 1e3), "cosine_min": round(cosine, 6)}
            except Exception as exc:
                out[name] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
            print(f"step {name:45} {out[name]}", flush=True)
    return out


def graph_section(model: Any, seed: int, attention: str, residual: bool) -> dict[str, Any]:
    """The forward captured once as a CUDA graph and replayed (no launch work on the host)."""
    import torch

    from adaptlab.models.engine.packed_bert import PackedEncoder

    data = make_step(seed, MULTIPLE)
    encoder = PackedEncoder(model, compile=True, gelu_epilogue=True, residual_in_gemm=residual)
    if attention == "cudnn":
        encoder._attention = _attention_cudnn
    args = (data["ids"], data["positions"], data["cu"], WINDOW)
    try:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                encoder.forward(*args)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            encoder.forward(*args)
        ms = timed_ms(graph.replay)
        result: dict[str, Any] = {"ms": ms, "chunks_per_s": round(data["step"].rows / ms * 1e3)}
    except Exception as exc:
        result = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    print(f"graph {attention} residual={residual}: {result}", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=Path("docs/results/gpu_step_variants.json"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("gpu_step_variants: no CUDA GPU visible here; nothing measured (run it on a machine with one).")
        return 0
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=30522, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096
    )
    torch.manual_seed(0)
    model = BertModel(config).to(torch.bfloat16).cuda().eval()
    report: dict[str, Any] = {
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version(),
        "step_tokens": STEP_TOKENS,
    }

    def save() -> None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    with torch.inference_mode():
        reference = reference_vectors(model, make_step(args.seed, 1)["rows"])
        report["attention_one_layer"] = attention_section(args.seed)
        save()
        report["step"] = step_section(model, args.seed, False, reference)
        save()
        torch.cuda.tunable.set_filename(str(args.output.parent / "tunableop_results.csv"))
        torch.cuda.tunable.enable(True)
        torch.cuda.tunable.tuning_enable(True)
        start = time.perf_counter()
        report["step_tunableop"] = step_section(model, args.seed, True, reference)
        report["tunableop_seconds_incl_tuning"] = round(time.perf_counter() - start, 1)
        save()
        fastest = min(
            (v["ms"], k) for part in ("step", "step_tunableop") for k, v in report[part].items() if "ms" in v
        )[1]
        report["graph_of"] = fastest
        report["graph"] = graph_section(model, args.seed, fastest.split()[0], "residual" in fastest)
        save()
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
