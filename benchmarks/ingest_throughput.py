"""Ingest throughput: MB/s of text through load, clean, detect language, chunk and store.

The German laws (Markdown) and the XQuAD articles (one text file per article, German and English)
from the shared data, copied under new names into a temporary folder until the corpus reaches
`--megabytes`, go through the real `Ingestor` into a fresh SQLite store. In the same run, repeat by
repeat and interleaved so machine noise hits every setting alike, it also times:

- `floor`: read + decode each file, split words, cut 500-word chunks, insert them into SQLite: the
  least any ingest must do, in plain Python;
- `reference`: the previous implementation (`ingest_reference.py`) in one process;
- adaptlab with 1 and 2 processes (the pool made up front and forked, as `adaptlab ingest` does), and
  with 2 spawned ones (where fork is ruled out: not Linux, or threads already running).

Every store is reduced to a digest of all its document and chunk rows: current and reference must be
identical. Per-stage costs (µs of CPU per KB) come from one pass over the base corpus, and the
break-even size for worker processes from subsets of growing size.

    python benchmarks/ingest_throughput.py --megabytes 35 --repeats 2
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).parent))


class Timed:
    """Wall seconds plus CPU seconds of this process and of its (joined) worker processes."""

    def __enter__(self) -> Timed:
        self.start = os.times()
        self.wall_start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        end = os.times()
        self.wall = time.perf_counter() - self.wall_start
        self.main_cpu = end.user - self.start.user + end.system - self.start.system
        self.workers_cpu = (
            end.children_user - self.start.children_user + end.children_system - self.start.children_system
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--megabytes", type=float, default=35.0, help="corpus size (the base corpus is ~3.5 MB)")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--skip-break-even", action="store_true")
    p.add_argument("--output", type=Path, default=Path("docs/results/ingest_throughput.json"))
    return p.parse_args(argv)


def base_corpus(root: Path, target: Path) -> list[Path]:
    """Laws as they are, plus XQuAD articles as .txt files (the shared data is read, never copied into the repo)."""
    target.mkdir(parents=True, exist_ok=True)
    files = []
    for law in sorted((root / "gesetze").glob("*.md")):
        shutil.copyfile(law, target / law.name)
        files.append(target / law.name)
    for lang in ("de", "en"):
        data = json.loads((root / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        for i, article in enumerate(data["data"]):
            path = target / f"xquad-{lang}-{i:02d}.txt"
            path.write_text("\n\n".join(p["context"] for p in article["paragraphs"]), encoding="utf-8")
            files.append(path)
    return files


def scaled_corpus(base: list[Path], target: Path, megabytes: float) -> list[Path]:
    """Copies of the base corpus in folders copy00, copy01, ... until it holds `megabytes`."""
    files: list[Path] = []
    size = 0
    copy = 0
    while size < megabytes * 1e6:
        folder = target / f"copy{copy:02d}"
        folder.mkdir(parents=True)
        for path in base:
            shutil.copyfile(path, folder / path.name)
            files.append(folder / path.name)
            size += path.stat().st_size
        copy += 1
    return files


def store_digest(db: Path) -> dict[str, Any]:
    """sha256 over every document and chunk row (timestamps left out) and the row counts."""
    conn = sqlite3.connect(str(db))
    digest = hashlib.sha256()
    counts = {}
    queries = {
        "documents": "SELECT doc_id, source, key, title, text_hash, chunking, lang, metadata, n_chunks "
        "FROM documents ORDER BY doc_id",
        "chunks": "SELECT chunk_id, doc_id, ordinal, heading, text, page, lang, n_words, n_tokens "
        "FROM chunks ORDER BY chunk_id",
        "files": "SELECT source, file_hash, size, chunking, n_docs FROM files ORDER BY source",
    }
    for table, query in queries.items():
        n = 0
        for row in conn.execute(query):
            digest.update(repr(tuple(row)).encode("utf-8"))
            n += 1
        counts[table] = n
    conn.close()
    return {"sha256": digest.hexdigest(), **counts}


def run_adaptlab(
    files: list[Path], db: Path, workers: int, reference: bool = False, **ingestor: Any
) -> float:
    from ingest_reference import ReferencePreparer

    from adaptlab.corpus.chunking import ChunkingConfig
    from adaptlab.corpus.ingest import FilePreparer, Ingestor, IngestReport
    from adaptlab.corpus.loaders.base import LoaderOptions
    from adaptlab.corpus.store import CorpusStore

    from adaptlab.corpus.prepare_pool import PreparePool

    preparer = (ReferencePreparer if reference else FilePreparer)(ChunkingConfig(), LoaderOptions())
    store = CorpusStore(db)
    report = IngestReport()
    with Timed() as timed:
        # as `adaptlab ingest` does: the worker pool is made (forked where possible) before the work starts
        with PreparePool(preparer, workers) if workers > 1 else contextlib.nullcontext() as pool:
            Ingestor(store, preparer, **ingestor).ingest_files(files, report, workers=workers, pool=pool)
    store.close()
    if report.skipped:
        raise SystemExit(f"benchmark corpus had skipped files: {report.skipped[:3]}")
    return timed


def run_floor(files: list[Path], db: Path) -> Timed:
    """Read, decode, split words, 500-word chunks, one SQLite transaction per file."""
    with Timed() as timed:
        _floor(files, db)
    return timed


def _floor(files: list[Path], db: Path) -> None:
    conn = sqlite3.connect(str(db))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE chunks (source TEXT, ordinal INTEGER, text TEXT)")
    for path in files:
        words = path.read_bytes().decode("utf-8").split()
        rows = [(str(path), i, " ".join(words[i : i + 500])) for i in range(0, len(words), 500)]
        with conn:
            conn.executemany("INSERT INTO chunks VALUES (?, ?, ?)", rows)
    conn.close()


def spawn_only() -> Callable[[], None]:
    """Make the pool spawn (as under the CLI's progress thread); returns the undo."""
    from adaptlab.corpus import prepare_pool

    original = prepare_pool.pool_context
    prepare_pool.pool_context = lambda: multiprocessing.get_context("spawn")

    def undo() -> None:
        prepare_pool.pool_context = original

    return undo


def stage_costs(files: list[Path]) -> dict[str, dict[str, float]]:
    """µs of CPU per KB of input for each stage, current and reference, over the base corpus in one process."""
    import ingest_reference as ref

    from adaptlab.corpus.chunking import Chunker, ChunkingConfig
    from adaptlab.corpus.ingest import CHUNK_SAMPLE_CHARS, DOC_SAMPLE_CHARS, _leading_text, clean_document
    from adaptlab.corpus.language import detect_language, detect_languages
    from adaptlab.corpus.loaders import load_file
    from adaptlab.corpus.loaders.base import LoaderOptions
    from adaptlab.corpus.store import CorpusStore

    kb = sum(p.stat().st_size for p in files) / 1e3
    options = LoaderOptions()
    chunker = Chunker(ChunkingConfig())
    current: dict[str, float] = dict.fromkeys(
        ["load", "clean", "doc_language", "chunk", "chunk_language"], 0.0
    )
    before: dict[str, float] = dict(current)

    def timed(bucket: dict[str, float], stage: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        result = fn(*args, **kwargs)
        bucket[stage] += time.process_time() - start
        return result

    def old_detect_each(texts: list[str]) -> list[tuple[str, float]]:
        return [ref.detect_language(t, sample_chars=600) for t in texts]

    prepared = []
    for path in files:
        docs = timed(current, "load", load_file, path, options)
        old_docs = timed(before, "load", ref.load_markdown, path) if path.suffix == ".md" else docs
        for doc, old in zip(docs, old_docs):
            doc = timed(current, "clean", clean_document, doc)
            old = timed(before, "clean", ref.reference_clean_document, old)
            timed(current, "doc_language", detect_language, _leading_text(doc, DOC_SAMPLE_CHARS))
            timed(before, "doc_language", ref.detect_language, old.title + "\n" + old.text)
            chunks = timed(current, "chunk", chunker.chunk, doc)
            timed(before, "chunk", ref.chunk_document, old, ChunkingConfig())
            texts = [c.text for c in chunks]
            timed(current, "chunk_language", detect_languages, texts, sample_chars=CHUNK_SAMPLE_CHARS)
            timed(before, "chunk_language", old_detect_each, texts)
            prepared.append((doc, chunks))
    with tempfile.TemporaryDirectory() as tmp:
        store = CorpusStore(Path(tmp) / "stages.sqlite")
        start = time.process_time()
        for i, (doc, chunks) in enumerate(prepared):
            store.replace_file(f"{doc.source}#{i}", "hash", 0, "words:500:20:", [(doc, chunks)])
        current["store"] = before["store"] = time.process_time() - start
        store.close()
    per_kb = lambda bucket: {k: round(1e6 * v / kb, 1) for k, v in bucket.items()}  # noqa: E731
    result = {"current_us_per_kb": per_kb(current), "reference_us_per_kb": per_kb(before)}
    for key in list(result):
        result[key]["total"] = round(sum(result[key].values()), 1)
    return result


def _first_megabytes(files: list[Path], megabytes: float) -> list[Path]:
    taken: list[Path] = []
    size = 0
    for path in files:
        if size >= megabytes * 1e6:
            break
        taken.append(path)
        size += path.stat().st_size
    return taken


def break_even(base: list[Path], tmp: Path) -> list[dict[str, float]]:
    """1 process vs 2 (pool forced on; forked as under the CLI, and spawned) on growing corpora: where the
    pool starts to pay, which sets FORKED_MIN_BYTES and PARALLEL_MIN_BYTES."""
    rows = []
    for megabytes in (0.5, 1, 2, 4, 8, 16):
        files = (
            _first_megabytes(base, megabytes)
            if megabytes < 3
            else scaled_corpus(base, tmp / f"be{megabytes}", megabytes)
        )
        mb = sum(p.stat().st_size for p in files) / 1e6
        one = run_adaptlab(files, tmp / f"be{megabytes}-1.sqlite", 1).wall
        forked = run_adaptlab(files, tmp / f"be{megabytes}-2f.sqlite", 2, parallel_min_bytes=0).wall
        undo = spawn_only()
        try:
            spawned = run_adaptlab(files, tmp / f"be{megabytes}-2s.sqlite", 2, parallel_min_bytes=0).wall
        finally:
            undo()
        rows.append(
            {
                "megabytes": round(mb, 2),
                "one_process_s": round(one, 3),
                "two_forked_s": round(forked, 3),
                "two_spawned_s": round(spawned, 3),
            }
        )
        print(
            f"break-even {mb:.1f} MB: 1 process {one:.2f}s, 2 forked {forked:.2f}s, 2 spawned {spawned:.2f}s",
            flush=True,
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from adaptlab.datasets import data_root

    root = data_root()
    if root is None:
        print("no shared data (set $ADAPTLAB_DATA or place it at ../shared/data); nothing measured.")
        return 0
    load_start = [round(x, 2) for x in os.getloadavg()]
    settings: dict[str, Callable[[list[Path], Path], Timed]] = {
        "floor": run_floor,
        "reference_1_process": lambda f, db: run_adaptlab(f, db, 1, reference=True),
        "adaptlab_1_process": lambda f, db: run_adaptlab(f, db, 1),
        "adaptlab_2_processes": lambda f, db: run_adaptlab(f, db, 2),
        "adaptlab_2_spawned": lambda f, db: _spawned(f, db),
    }
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        base = base_corpus(root, tmp / "base")
        files = scaled_corpus(base, tmp / "corpus", args.megabytes)
        megabytes = sum(p.stat().st_size for p in files) / 1e6
        print(f"corpus: {len(files)} files, {megabytes:.1f} MB", flush=True)
        run_adaptlab(base[:3], tmp / "warm.sqlite", 1)  # imports and language models loaded
        runs: dict[str, list[Timed]] = {name: [] for name in settings}
        digests: dict[str, dict[str, Any]] = {}
        for repeat in range(args.repeats):
            for name, run in settings.items():
                db = tmp / f"{name}-{repeat}.sqlite"
                runs[name].append(run(files, db))
                if name != "floor" and name not in digests:
                    digests[name] = store_digest(db)
                for leftover in tmp.glob(f"{name}-{repeat}.sqlite*"):
                    leftover.unlink()
                last = runs[name][-1]
                print(
                    f"repeat {repeat + 1} {name}: {megabytes / last.wall:.2f} MB/s wall, "
                    f"CPU main {last.main_cpu:.2f}s workers {last.workers_cpu:.2f}s",
                    flush=True,
                )
        stages = stage_costs(base)
        even = [] if args.skip_break_even else break_even(base, tmp)
    reference_digest = digests["reference_1_process"]
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": "2 CPU cores shared with other agents' jobs: absolute MB/s vary with their load; "
        "ratios within this run hold",
        "cpu_cores": os.cpu_count(),
        "load_average_at_start": load_start,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "files": len(files),
        "megabytes": round(megabytes, 2),
        "chunking": "words:500:20",
        "settings": {},
        "equality": {
            "what": "sha256 over all document, chunk and file rows (ids, text, headings, languages, metadata, "
            "counts; timestamps excluded), each setting against the previous implementation",
            "reference": reference_digest,
            "identical": {name: d == reference_digest for name, d in digests.items()},
        },
        "stage_costs_base_corpus": stages,
        "break_even_two_processes": even,
    }
    floor_median = statistics.median(r.wall for r in runs["floor"])
    ref_median = statistics.median(r.wall for r in runs["reference_1_process"])
    for name, rs in runs.items():
        median = statistics.median(r.wall for r in rs)
        # CPU seconds are what the loaded machine cannot inflate much: on two idle cores the main process and
        # the worker run side by side, so the wall time there is about the larger of the two CPU times
        main_cpu = statistics.median(r.main_cpu for r in rs)
        workers_cpu = statistics.median(r.workers_cpu for r in rs)
        idle_wall = max(main_cpu, workers_cpu)
        result["settings"][name] = {
            "mb_per_s_median": round(megabytes / median, 2),
            "mb_per_s_best": round(megabytes / min(r.wall for r in rs), 2),
            "seconds": [round(r.wall, 3) for r in rs],
            "cpu_seconds_main": round(main_cpu, 3),
            "cpu_seconds_workers": round(workers_cpu, 3),
            "mb_per_cpu_second": round(megabytes / (main_cpu + workers_cpu), 2),
            "mb_per_s_on_idle_cores_estimate": round(megabytes / idle_wall, 2),
            "speedup_vs_reference": round(ref_median / median, 2),
            "time_vs_floor": round(median / floor_median, 2),
        }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, row in result["settings"].items():
        print(
            f"{name}: {row['mb_per_s_median']} MB/s wall, ~{row['mb_per_s_on_idle_cores_estimate']} MB/s on idle cores"
        )
    print(f"identical to reference: {result['equality']['identical']}")
    print(f"wrote {args.output}")
    return 0 if all(result["equality"]["identical"].values()) else 1


def _spawned(files: list[Path], db: Path) -> Timed:
    undo = spawn_only()
    try:
        return run_adaptlab(files, db, 2)
    finally:
        undo()


if __name__ == "__main__":
    sys.exit(main())
