"""CPU attention over packed queries: one SDPA call per query against short queries grouped (one process).

The CPU packed encoder (`models/engine/cpu_packed.py`) runs MiniLM in bfloat16 with the queries of a batch
laid end to end. Its attention used to be one SDPA call per query and layer (~100 us each, whatever the
length); `segment_attention.GroupedSegmentAttention` packs the short queries into groups of `width` tokens
and runs one masked SDPA call per layer. Each setting encodes the same real questions in rotating order for
`--rounds` rounds (one thread, as in the server's query process); the median whole-encode time, the rounds
each grouped width beat one call per query, and the lowest cosine between their vectors are written to
docs/results/cpu_segment_attention.json.

    .venv/bin/python benchmarks/cpu_segment_attention.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.jsonio import machine_info, write_json
from adaptlab.models.engine.cpu_packed import CpuPackedEncoder, fast_bf16_cpu
from adaptlab.models.engine.segment_attention import GroupedSegmentAttention, attention_per_segment
from adaptlab.models.resolve import minilm_dir
from load_search import QUERIES

OUT = Path("docs/results/cpu_segment_attention.json")
WIDTHS = (32, 64, 128)


def compare(encoder: CpuPackedEncoder, queries: int, rounds: int) -> dict[str, Any]:
    """Median encode time of `queries` questions per setting; new question numbers every round."""
    settings: dict[str, Any] = {"per query": attention_per_segment}
    settings.update({f"grouped {w}": GroupedSegmentAttention(w) for w in WIDTHS})
    names = list(settings)
    times: dict[str, list[float]] = {name: [] for name in names}
    cosine = {name: 1.0 for name in names}
    for r in range(rounds + 3):  # 3 warm-up rounds
        texts = [f"{QUERIES[(i + r) % len(QUERIES)]} {i + r * queries}" for i in range(queries)]
        vectors: dict[str, np.ndarray] = {}
        for name in names[r % len(names):] + names[: r % len(names)]:
            encoder.encoder._attention = settings[name]
            start = time.perf_counter()
            vectors[name] = encoder.encode_queries(texts)
            if r >= 3:
                times[name].append(time.perf_counter() - start)
        for name in names:
            cosine[name] = min(cosine[name], float(np.min(np.sum(vectors[name] * vectors["per query"], axis=1))))
    base = times["per query"]
    return {
        "queries": queries,
        "tokens": sum(len(e.ids) for e in encoder.tokenizer.encode_batch(texts)),
        "median_ms": {name: round(statistics.median(times[name]) * 1e3, 2) for name in names},
        "time_saved": {name: round(1 - statistics.median(times[name]) / statistics.median(base), 3) for name in names},
        "faster_rounds": {name: sum(b < a for a, b in zip(base, times[name])) for name in names[1:]},
        "rounds": rounds,
        "cosine_min_to_per_query": {name: round(cosine[name], 6) for name in names[1:]},
    }


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    encoder = CpuPackedEncoder(minilm_dir(), dtype="bf16")
    load_before = os.getloadavg()
    report: dict[str, Any] = {
        "benchmark": "cpu_segment_attention",
        "machine": None,
        "fast_bf16_cpu": fast_bf16_cpu(),
        "dtype": encoder.dtype,
        "torch": torch.__version__,
        "batches": [],
    }
    for n in (1, 8, 16, 32, 64):
        row = compare(encoder, n, args.rounds)
        report["batches"].append(row)
        print(f"{n:3} queries ({row['tokens']} tokens): "
              + ", ".join(f"{k} {v:.1f} ms" for k, v in row["median_ms"].items()), flush=True)
    report["machine"] = machine_info(load_before, "one thread; settings alternate within each round, so compare "
                                     "within a row")
    write_json(report, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
