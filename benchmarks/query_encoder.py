"""A faster query encoder over the model's own document vectors: quality kept and query latency, in one run.

`search.query_encoders: {minilm: onnx-int8}` encodes queries with MiniLM's own fused int8 ONNX export
(`minilm-onnx-int8` would use the prebuilt zoo graph), `{minilm: bf16}` with MiniLM's own weights packed in
bfloat16 (`models/engine/cpu_packed.py`), while the collection keeps MiniLM's float vectors,
so nothing is re-embedded. This measures what
that costs and gains against the plain setting (queries encoded by MiniLM itself, sentence-transformers
fp32) on the same documents:

* quality: nDCG@10 with exact search on XQuAD en-en, de-de, de-en and laws-heading (test split);
* speed: one query and a batch of 32 queries (what the server encodes when requests queue up), the two
  encoders taking turns for `--rounds` rounds on the same real questions; the median is reported.

    .venv/bin/python benchmarks/query_encoder.py      # → docs/results/query_encoder.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from adaptlab.compress.onnx_export import cached_export
from adaptlab.eval.exact_search import exact_search
from adaptlab.eval.metrics import ir_metrics
from adaptlab.eval.retrieval_eval import DocumentVectorCache, document_text, resolve_datasets
from adaptlab.jsonio import write_json
from adaptlab.models.base import Embedder
from adaptlab.models.engine.cpu_packed import CpuPackedEncoder, fast_bf16_cpu
from adaptlab.models.loading import load_embedder

SETS = ("xquad-en-en", "xquad-de-de", "xquad-de-en", "laws-heading")
OUT = Path(__file__).resolve().parent.parent / "docs" / "results" / "query_encoder.json"


def quality(documents: Embedder, encoders: dict[str, Embedder], sets: tuple[str, ...]) -> dict[str, Any]:
    """nDCG@10 per set and query encoder, all against `documents`' vectors of the same corpus."""
    cache = DocumentVectorCache()
    out: dict[str, Any] = {}
    for dataset in resolve_datasets(list(sets)):
        doc_ids, query_ids = list(dataset.corpus), list(dataset.queries)
        doc_vecs = cache.get(documents, [document_text(dataset.corpus[d]) for d in doc_ids], 32)
        questions = [dataset.queries[q] for q in query_ids]
        row: dict[str, Any] = {"queries": len(query_ids), "documents": len(doc_ids)}
        for name, encoder in encoders.items():
            run = exact_search(encoder.encode_queries(questions), doc_vecs, doc_ids, query_ids, k=10)
            row[name] = round(ir_metrics(dataset.qrels, run)["ndcg@10"], 4)
        base = row[next(iter(encoders))]
        row["kept"] = {n: round(row[n] / base, 4) for n in encoders}
        out[dataset.name] = row
        print(dataset.name, row)
    return out


def speed(encoders: dict[str, Embedder], questions: list[str], rounds: int) -> dict[str, Any]:
    """Median ms for one query and for 32, encoders alternating so machine load hits both alike."""
    batch = questions[:32]
    times: dict[str, dict[str, list[float]]] = {n: {"one": [], "batch32": []} for n in encoders}
    for encoder in encoders.values():  # warm up
        encoder.encode_queries(batch)
    for r in range(rounds):
        for name, encoder in encoders.items():
            start = time.perf_counter()
            for q in questions[r * 8 : r * 8 + 8]:
                encoder.encode_queries([q])
            times[name]["one"].append((time.perf_counter() - start) / 8 * 1000)
            start = time.perf_counter()
            encoder.encode_queries(batch)
            times[name]["batch32"].append((time.perf_counter() - start) * 1000)
    out = {n: {k: round(statistics.median(v), 2) for k, v in t.items()} for n, t in times.items()}
    base = next(iter(encoders))
    for name in encoders:
        out[name]["speedup_one"] = round(out[base]["one"] / out[name]["one"], 2)
        out[name]["speedup_batch32"] = round(out[base]["batch32"] / out[name]["batch32"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm", help="Model whose document vectors the collection holds.")
    parser.add_argument("--query-encoder", action="append", help="Faster encoder(s) of the same space: a zoo "
                        "name, an ONNX folder, onnx-int8 (the model's own export) or bf16 (its weights packed in "
                        "bfloat16). [default: minilm-onnx-int8, onnx-int8, bf16]")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    cache_dir = Path(".adaptlab/cache")
    documents = load_embedder(args.model, cache_dir)
    encoders = {args.model: documents}
    for name in args.query_encoder or ["minilm-onnx-int8", "onnx-int8", "bf16"]:
        if name == "bf16":  # the model's own weights, packed, bfloat16 (search.query_encoders: bf16)
            encoders[name] = CpuPackedEncoder(Path(documents.path))
            continue
        path = cached_export(args.model, name, cache_dir) if name.startswith("onnx-") else name
        encoders[name] = load_embedder(str(path), cache_dir)
    load_before = os.getloadavg()[0]
    questions = [q for d in resolve_datasets(["xquad-de-de", "xquad-en-en"]) for q in d.queries.values()]
    result = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
        "cpu_bf16_units": fast_bf16_cpu(),
        "load_average": {"start": round(load_before, 2)},
        "documents_encoded_by": args.model,
        "speed_ms": speed(encoders, questions[:: max(1, len(questions) // (8 * args.rounds))], args.rounds),
        "ndcg@10": quality(documents, encoders, SETS),
    }
    result["load_average"]["end"] = round(os.getloadavg()[0], 2)
    write_json(result, args.out)
    print(result["speed_ms"])


if __name__ == "__main__":
    main()
