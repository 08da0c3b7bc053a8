"""bf16 query encoding on CPU with oneDNN-prepacked weights against plain `addmm`, one process, paired rounds.

The CPU packed encoder (`models/engine/cpu_packed.py`) runs MiniLM in bfloat16 on AMX / AVX512-BF16. Plain
`torch.addmm` hands oneDNN the weight in PyTorch's layout, which oneDNN reorders on every call; with
`prepack` each weight is reordered once at load and bias + GELU run in the product's epilogue. Both settings
encode the same real questions in alternating order for `--rounds` rounds (one thread, as in the server's
query process); the medians, the paired win count and the cosine between the two settings' vectors are
written to docs/results/cpu_prepack.json.

    .venv/bin/python benchmarks/cpu_prepack.py
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.jsonio import write_json
from adaptlab.models.engine.cpu_packed import CpuPackedEncoder, fast_bf16_cpu
from adaptlab.models.resolve import minilm_dir
from load_search import QUERIES

OUT = Path("docs/results/cpu_prepack.json")


def paired(encoder: CpuPackedEncoder, texts: list[str], rounds: int) -> dict[str, Any]:
    packed = encoder.encoder.prepacked
    times: dict[bool, list[float]] = {False: [], True: []}
    vectors: dict[bool, np.ndarray] = {}
    for r in range(rounds + 3):  # 3 warm-up rounds
        for flag in (False, True) if r % 2 else (True, False):
            encoder.encoder.prepacked = packed if flag else None
            start = time.perf_counter()
            vectors[flag] = encoder.encode_queries(texts)
            if r >= 3:
                times[flag].append(time.perf_counter() - start)
    encoder.encoder.prepacked = packed
    plain, fast = statistics.median(times[False]) * 1e3, statistics.median(times[True]) * 1e3
    return {
        "queries": len(texts),
        "plain_ms": round(plain, 2),
        "prepacked_ms": round(fast, 2),
        "time_saved": round(1 - fast / plain, 3),
        "prepacked_faster_rounds": sum(b < a for a, b in zip(times[False], times[True])),
        "rounds": rounds,
        "cosine_min_between_settings": round(float(np.min(np.sum(vectors[False] * vectors[True], axis=1))), 6),
    }


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=35)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    encoder = CpuPackedEncoder(minilm_dir(), dtype="bf16")
    if encoder.encoder.prepacked is None:
        print("cpu_prepack: bf16 prepacked products are not available here (no oneDNN or no bf16); nothing measured")
        return 0
    report: dict[str, Any] = {"fast_bf16_cpu": fast_bf16_cpu(), "torch": torch.__version__, "batches": []}
    for n in (1, 8, 32):
        texts = [f"{QUERIES[i % len(QUERIES)]} {i}" for i in range(n)]
        row = paired(encoder, texts, args.rounds)
        report["batches"].append(row)
        print(
            f"{n:3} queries: plain {row['plain_ms']:6.1f} ms, prepacked {row['prepacked_ms']:6.1f} ms "
            f"({row['time_saved']:.0%} less time), faster in {row['prepacked_faster_rounds']}/{args.rounds} rounds",
            flush=True,
        )
    write_json(report, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
