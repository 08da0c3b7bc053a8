"""Ingest throughput: MB/s of text through load, clean, detect language, chunk and store.

The German laws (Markdown) and the XQuAD paragraphs (written out as one text file per article, German
and English) from the shared data go through the real `Ingestor` into a fresh SQLite corpus store,
once with each worker count, interleaved repeat by repeat so machine noise hits every setting. The
language step is also timed with py3langid alone (the engine before fastText was put in front), on
the same chunks, as the in-run baseline for that stage.

    python benchmarks/ingest_throughput.py --workers 1,2 --repeats 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", default="1,2", help="comma list of worker-process counts")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--chunk-unit", default="words", choices=["words", "tokens"])
    p.add_argument("--output", type=Path, default=Path("docs/results/ingest_throughput.json"))
    return p.parse_args(argv)


def corpus_folder(root: Path, target: Path) -> list[Path]:
    """Laws as they are, plus XQuAD articles as .txt files (the shared data is read, never copied in the repo)."""
    files = sorted((root / "gesetze").glob("*.md"))
    for lang in ("de", "en"):
        data = json.loads((root / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        for i, article in enumerate(data["data"]):
            path = target / f"xquad-{lang}-{i:02d}.txt"
            path.write_text("\n\n".join(p["context"] for p in article["paragraphs"]), encoding="utf-8")
            files.append(path)
    return files


def ingest_once(files: list[Path], workers: int, unit: str, cache: Path) -> dict[str, Any]:
    from adaptlab.corpus.chunking import ChunkingConfig
    from adaptlab.corpus.ingest import FilePreparer, Ingestor, IngestReport
    from adaptlab.corpus.loaders.base import LoaderOptions
    from adaptlab.corpus.store import CorpusStore

    chunking = ChunkingConfig(
        unit, 500 if unit == "words" else 256, 20, "minilm" if unit == "tokens" else None
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = CorpusStore(Path(tmp) / "corpus.sqlite")
        report = IngestReport()
        start = time.perf_counter()
        Ingestor(store, FilePreparer(chunking, LoaderOptions(), model_cache=cache)).ingest_files(
            files, report, workers=workers
        )
        seconds = time.perf_counter() - start
        store.close()
    return {"seconds": seconds, "chunks": report.chunks_written, "skipped": len(report.skipped)}


def language_stage(files: list[Path]) -> dict[str, float]:
    """Seconds to tag every 600-character chunk sample: the current detector vs py3langid alone."""
    from adaptlab.corpus import language

    samples = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        samples += [text[i : i + 600] for i in range(0, len(text), 2000)]
    start = time.perf_counter()
    fast = [language.detect_language(s, sample_chars=600)[0] for s in samples]
    fast_s = time.perf_counter() - start
    ident = language._identifier(language.DEFAULT_LANGUAGES)
    start = time.perf_counter()
    slow = [ident.classify(s)[0] for s in samples]
    slow_s = time.perf_counter() - start
    agree = sum(a == b for a, b in zip(fast, slow)) / max(len(samples), 1)
    return {"samples": len(samples), "adaptlab_s": fast_s, "py3langid_s": slow_s, "agreement": agree}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from adaptlab.datasets import data_root

    root = data_root()
    if root is None:
        print("no shared data (set $ADAPTLAB_DATA or place it at ../shared/data); nothing measured.")
        return 0
    worker_counts = [int(w) for w in args.workers.split(",")]
    cache = Path(".adaptlab/models")
    with tempfile.TemporaryDirectory() as tmp:
        files = corpus_folder(root, Path(tmp))
        megabytes = sum(p.stat().st_size for p in files) / 1e6
        ingest_once(files[:2], 1, args.chunk_unit, cache)  # imports and models warmed
        runs: dict[int, list[dict[str, Any]]] = {w: [] for w in worker_counts}
        for repeat in range(args.repeats):
            for workers in worker_counts:
                run = ingest_once(files, workers, args.chunk_unit, cache)
                runs[workers].append(run)
                print(
                    f"repeat {repeat + 1}, {workers} worker(s): {megabytes / run['seconds']:.2f} MB/s",
                    flush=True,
                )
        lang = language_stage(files)
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu_cores": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "files": len(files),
        "megabytes": round(megabytes, 3),
        "chunk_unit": args.chunk_unit,
        "workers": {},
        "language_stage": {
            "samples": lang["samples"],
            "adaptlab_ms_per_sample": round(1000 * lang["adaptlab_s"] / lang["samples"], 3),
            "py3langid_ms_per_sample": round(1000 * lang["py3langid_s"] / lang["samples"], 3),
            "speedup": round(lang["py3langid_s"] / lang["adaptlab_s"], 2),
            "agreement": round(lang["agreement"], 4),
        },
    }
    for workers, rs in runs.items():
        secs = [r["seconds"] for r in rs]
        result["workers"][str(workers)] = {
            "mb_per_s_median": round(megabytes / statistics.median(secs), 3),
            "mb_per_s_best": round(megabytes / min(secs), 3),
            "seconds": [round(s, 3) for s in secs],
            "chunks": rs[0]["chunks"],
        }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result["workers"], indent=1))
    print(f"language stage: {result['language_stage']}")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
