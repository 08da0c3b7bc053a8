"""Embedding throughput on CPU: adaptlab's encode path against plain `SentenceTransformer.encode`.

Both sides embed the same chunks (German federal laws from the shared data, chunked to MiniLM's
token budget, shuffled with a fixed seed so lengths are mixed as in a real corpus) in the same
process, interleaved repeat by repeat so machine noise hits both. The result is a JSON file with
per-side timings, the throughput ratio adaptlab/baseline and the agreement of the two sides'
vectors (they must agree: min cosine >= 0.999).

    HF_HUB_OFFLINE=1 python benchmarks/embed_throughput.py --n-chunks 2000 --repeats 3

Baseline: `SentenceTransformer(folder, device="cpu").encode(texts, batch_size=..,
normalize_embeddings=True, convert_to_numpy=True)`, the plain library call.
adaptlab: `adaptlab.models.encode.encode_documents(load_embedder(model, cache), texts, ...)`.
For zoo models that are not sentence-transformers (e5-small, minilm-onnx-int8, ...) there is no
like-for-like library call, so the baseline is skipped and only adaptlab's throughput is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

CHUNK_OVERLAP = 20
SEED = 13
WARMUP_TEXTS = 64


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="minilm", help="zoo name for the adaptlab side (default minilm)")
    p.add_argument("--n-chunks", type=int, default=2000, help="chunks to embed per repeat")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--block-size", type=int, default=512, help="adaptlab encode block size")
    p.add_argument("--repeats", type=int, default=3, help="interleaved timed repeats per side")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    p.add_argument("--workspace", default=None, help="adaptlab workspace (model cache); default ./.adaptlab")
    p.add_argument("--output", type=Path, default=Path("docs/results/embed_throughput_cpu.json"))
    return p.parse_args(argv)


# ---------------------------------------------------------------- environment


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def uptime_line() -> str | None:
    try:
        return (
            subprocess.run(["uptime"], check=False, capture_output=True, text=True, timeout=5).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


# ---------------------------------------------------------------- chunks


def build_chunks(n_chunks: int, cache_dir: Path) -> tuple[list[str], dict[str, Any]] | None:
    """The first `n_chunks` embed texts of the German laws, shuffled with a fixed seed; None without data."""
    from adaptlab.corpus.chunking import Chunker, ChunkingConfig
    from adaptlab.corpus.ingest import clean_document
    from adaptlab.corpus.loaders import LoadError, load_file
    from adaptlab.datasets import SOURCES, data_root
    from adaptlab.models.token_counter import load_token_counter

    root = data_root()
    folder = root / "gesetze" if root else None
    if folder is None or not folder.is_dir():
        print(
            f"no German law data found (looked in {folder or '../shared/data/gesetze'}); "
            f"set $ADAPTLAB_DATA or place the shared data at ../shared/data. "
            f"Source: {SOURCES['gesetze']}. Nothing benchmarked."
        )
        return None
    counter = load_token_counter("minilm", cache_dir)
    chunker = Chunker(ChunkingConfig("tokens", counter.budget, CHUNK_OVERLAP, "minilm"), counter.count)
    texts: list[str] = []
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in {".md", ".txt"})
    for path in files:
        try:
            docs = load_file(path)
        except LoadError as err:
            print(f"skipping {path.name}: {err}", file=sys.stderr)
            continue
        for doc in docs:
            texts.extend(chunk.embed_text for chunk in chunker.chunk(clean_document(doc)))
    if not texts:
        print(f"no chunks could be made from {folder}; nothing benchmarked.")
        return None
    available = len(texts)
    random.Random(SEED).shuffle(texts)
    if len(texts) < n_chunks:  # a small data folder: repeat the shuffled list to reach N
        texts = texts * (n_chunks // len(texts) + 1)
    texts = texts[:n_chunks]
    tokens = counter.count(texts)
    info = {
        "source": str(folder),
        "files": len(files),
        "chunks_available": available,
        "chunking": f"tokens, size {counter.budget} (MiniLM budget), overlap {CHUNK_OVERLAP}",
        "shuffle_seed": SEED,
        "mean_tokens_per_chunk": round(float(np.mean(tokens)), 1),
        "median_tokens_per_chunk": float(np.median(tokens)),
        "max_tokens_per_chunk": int(max(tokens)),
        "mean_chars_per_chunk": round(float(np.mean([len(t) for t in texts])), 1),
    }
    return texts, info


# ---------------------------------------------------------------- timing


def side_stats(seconds: list[float], n: int) -> dict[str, Any]:
    med = statistics.median(seconds)
    return {
        "seconds": [round(s, 3) for s in seconds],
        "min_s": round(min(seconds), 3),
        "median_s": round(med, 3),
        "chunks_per_s_median": round(n / med, 1),
        "chunks_per_s_best": round(n / min(seconds), 1),
    }


def agreement(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    a = a / np.clip(np.linalg.norm(a, axis=1, keepdims=True), 1e-12, None)
    b = b / np.clip(np.linalg.norm(b, axis=1, keepdims=True), 1e-12, None)
    cos = np.sum(a * b, axis=1)
    return {"max_abs_diff": float(np.max(np.abs(a - b))), "min_cosine": float(np.min(cos))}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    uptime_before = uptime_line()
    load_before = load_average()

    import torch

    from adaptlab.jsonio import write_json
    from adaptlab.models.encode import encode_documents
    from adaptlab.models.loading import load_embedder
    from adaptlab.models.registry import get_spec
    from adaptlab.models.resolve import sentence_transformers_dir
    from adaptlab.workspace import Workspace

    if args.threads:
        torch.set_num_threads(args.threads)
    cache_dir = Workspace.resolve(args.workspace).model_cache
    built = build_chunks(args.n_chunks, cache_dir)
    if built is None:
        return 0
    texts, chunk_info = built
    n = len(texts)
    spec = get_spec(args.model)

    # adaptlab side: forced onto CPU for the ST backend (the benchmark is the CPU result)
    if spec.backend == "sentence-transformers":
        from adaptlab.models.backends.sentence_transformers_backend import SentenceTransformerEmbedder

        folder = sentence_transformers_dir(spec, cache_dir)
        embedder = load_embedder(args.model, cache_dir)
        if getattr(embedder, "device", "cpu") != "cpu":  # a GPU is visible; this is the CPU benchmark
            embedder = SentenceTransformerEmbedder(folder, name=spec.name, device="cpu")
        # the baseline: the plain library call, exactly as a user would write it
        from sentence_transformers import SentenceTransformer

        baseline_model = SentenceTransformer(str(folder), device="cpu")
        baseline_note = f"SentenceTransformer({folder.name!r}, device='cpu').encode(...)"
    else:
        embedder = load_embedder(args.model, cache_dir)
        baseline_model = None
        folder = None
        baseline_note = (
            f"skipped: '{spec.name}' is a {spec.backend} model, not sentence-transformers, "
            "so there is no plain SentenceTransformer.encode to compare against"
        )
        print(f"baseline {baseline_note}")

    def run_baseline(batch: list[str]) -> np.ndarray:
        return baseline_model.encode(
            batch, batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )

    def run_adaptlab(batch: list[str]) -> np.ndarray:
        return encode_documents(embedder, batch, batch_size=args.batch_size, block_size=args.block_size)

    # warm-up on 64 texts (allocator, thread pools, lazy imports)
    warm = texts[:WARMUP_TEXTS]
    if baseline_model is not None:
        run_baseline(warm)
    run_adaptlab(warm)

    times: dict[str, list[float]] = {"baseline": [], "adaptlab": []}
    vectors: dict[str, np.ndarray] = {}
    for r in range(args.repeats):
        # alternate which side goes first so drift in machine load hits both equally
        order = ["baseline", "adaptlab"] if r % 2 == 0 else ["adaptlab", "baseline"]
        for side in order:
            if side == "baseline" and baseline_model is None:
                continue
            fn = run_baseline if side == "baseline" else run_adaptlab
            t0 = time.perf_counter()
            vecs = fn(texts)
            times[side].append(time.perf_counter() - t0)
            vectors[side] = np.asarray(vecs, dtype=np.float32)
            print(f"  repeat {r + 1}/{args.repeats} {side:9s} {times[side][-1]:7.2f} s", flush=True)

    load_after = load_average()
    result: dict[str, Any] = {
        "benchmark": "embed_throughput",
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "python benchmarks/embed_throughput.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "model": spec.name,
        "device": "cpu",
        "n_chunks": n,
        "batch_size": args.batch_size,
        "block_size": args.block_size,
        "repeats": args.repeats,
        "warmup_texts": WARMUP_TEXTS,
        "chunks": chunk_info,
        "machine": {
            "cpu_model": cpu_model(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "uptime_before": uptime_before,
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "versions": {
            "torch": torch.__version__,
            "sentence_transformers": package_version("sentence-transformers"),
            "transformers": package_version("transformers"),
            "adaptlab": package_version("adaptlab"),
        },
        "baseline": {"call": baseline_note},
        "adaptlab": {
            "call": f"adaptlab.models.encode.encode_documents(load_embedder({spec.name!r}), ...)",
            **side_stats(times["adaptlab"], n),
        },
    }
    if baseline_model is not None:
        result["baseline"].update(side_stats(times["baseline"], n))
        ratio = result["adaptlab"]["chunks_per_s_median"] / result["baseline"]["chunks_per_s_median"]
        result["ratio_adaptlab_over_baseline"] = round(ratio, 3)
        agree = agreement(vectors["baseline"], vectors["adaptlab"])
        result["agreement"] = {**agree, "ok": agree["min_cosine"] >= 0.999}
    write_json(result, args.output)

    print()
    print(
        f"embed throughput, {spec.name}, {n} chunks (mean {chunk_info['mean_tokens_per_chunk']} tokens), "
        f"batch {args.batch_size}, {torch.get_num_threads()} torch threads, load {load_before}"
    )
    print(f"{'side':10s} {'min s':>8s} {'median s':>9s} {'chunks/s':>9s}")
    for side in ("baseline", "adaptlab"):
        if "median_s" in result[side]:
            s = result[side]
            print(f"{side:10s} {s['min_s']:8.2f} {s['median_s']:9.2f} {s['chunks_per_s_median']:9.1f}")
    if "ratio_adaptlab_over_baseline" in result:
        a = result["agreement"]
        print(f"ratio adaptlab/baseline (median throughput): {result['ratio_adaptlab_over_baseline']:.3f}")
        print(
            f"agreement: min cosine {a['min_cosine']:.6f}, max |diff| {a['max_abs_diff']:.2e}"
            f"{'' if a['ok'] else '  <-- DISAGREE'}"
        )
    else:
        print(f"baseline {baseline_note}")
    print(f"wrote {args.output}")
    if "agreement" in result and not result["agreement"]["ok"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
