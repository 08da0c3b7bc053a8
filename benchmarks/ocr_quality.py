"""OCR quality: Tesseract (deu+eng) on German and English paragraphs rendered clean and degraded.

Paragraphs come from the shared data (German federal laws and XQuAD-de for German, XQuAD-en for
English), are rendered with DejaVu Sans, spoiled at five levels (adaptlab.ocr.synthetic.LEVELS:
clean → heavy: lower resolution, contrast, blur, speckle) and read back. Reported per language and
level: CER, WER, mean word confidence, seconds per page; the relation of confidence to CER
(Spearman); and the quality gate's precision/recall at several thresholds, where a page is "bad"
when its CER exceeds 10 %. The baseline in the same run is the plain library call a user would
write first, `pytesseract.image_to_string(image)` (English only), on the clean German pages.

    python benchmarks/ocr_quality.py --per-language 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import pytesseract
from scipy.stats import spearmanr

from adaptlab.datasets import data_root
from adaptlab.ocr import OcrResult, QualityGate, TesseractOcr
from adaptlab.ocr.metrics import cer, wer
from adaptlab.ocr.synthetic import LEVELS, degrade, find_font, render_text
from adaptlab.progress import make_progress

BAD_CER = 0.10
THRESHOLDS = (50, 60, 70, 80, 85, 90)
MIN_CHARS, MAX_CHARS = 220, 420


def _cut(text: str) -> str | None:
    """A paragraph cut at a sentence end between MIN_CHARS and MAX_CHARS, single-spaced."""
    text = " ".join(text.split())
    if len(text) < MIN_CHARS:
        return None
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s|$)", text[:MAX_CHARS]) if m.end() >= MIN_CHARS]
    return text[: ends[-1]] if ends else None


def law_paragraphs(root: Path) -> list[str]:
    out = []
    for path in sorted((root / "gesetze").glob("*.md")):
        for block in path.read_text("utf-8").split("\n\n"):
            if block.lstrip().startswith(("#", "|", "-", "*")):
                continue
            cut = _cut(re.sub(r"\(\d+\)\s*", "", block))
            if cut:
                out.append(cut)
    return out


def xquad_paragraphs(root: Path, lang: str) -> list[str]:
    data = json.loads((root / "xquad" / f"xquad.{lang}.json").read_text("utf-8"))["data"]
    return [c for a in data for p in a["paragraphs"] if (c := _cut(p["context"]))]


def sample(root: Path, per_language: int, seed: int) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    laws, de, en = law_paragraphs(root), xquad_paragraphs(root, "de"), xquad_paragraphs(root, "en")
    half = per_language // 2
    items = [("de", "laws", t) for t in rng.sample(laws, half)]
    items += [("de", "xquad", t) for t in rng.sample(de, per_language - half)]
    items += [("en", "xquad", t) for t in rng.sample(en, per_language)]
    return items


def gate_table(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    bad = [p for p in pages if p["cer"] > BAD_CER]
    for threshold in THRESHOLDS:
        gate = QualityGate(min_confidence=threshold)
        held = [p for p in pages if not gate.check(OcrResult("", p["confidence"], p["words"])).passed]
        kept = [p for p in pages if p not in held]
        true_held = sum(1 for p in held if p["cer"] > BAD_CER)
        rows.append({
            "threshold": threshold,
            "held_back": len(held),
            "precision": round(true_held / len(held), 4) if held else None,
            "recall": round(true_held / len(bad), 4) if bad else None,
            "kept_mean_cer": round(statistics.fmean(p["cer"] for p in kept), 4) if kept else None,
            "clean_pages_held_back": sum(1 for p in held if p["level"] == "clean"),
        })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=10)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=Path("docs/results/ocr_quality.json"))
    args = parser.parse_args()
    root, font = data_root(required=True), find_font()
    if font is None:
        sys.exit("no TrueType font found; apt-get install fonts-dejavu-core")
    engine = TesseractOcr("deu+eng")
    items = sample(root, args.per_language, args.seed)
    pages: list[dict[str, Any]] = []
    baseline_rows: list[dict[str, Any]] = []
    with make_progress(unit="pages") as progress:
        task = progress.add_task("ocr", total=len(items) * (len(LEVELS) + 1))
        for number, (lang, source, text) in enumerate(items):
            image = render_text(text, font)
            for level, how in LEVELS.items():
                started = time.perf_counter()
                result = engine.read(degrade(image, how, seed=number))
                pages.append({"lang": lang, "source": source, "level": level, "cer": round(cer(text, result.text), 4),
                              "wer": round(wer(text, result.text), 4), "confidence": result.confidence,
                              "words": result.words, "seconds": round(time.perf_counter() - started, 3)})  # fmt: skip
                progress.advance(task)
            if lang == "de":
                plain = pytesseract.image_to_string(image)  # the first call a user writes: English, defaults
                baseline_rows.append({"cer": cer(text, plain), "ours": pages[-len(LEVELS)]["cer"]})
            progress.advance(task)
    summary = []
    for lang in ("de", "en"):
        for level in LEVELS:
            group = [p for p in pages if p["lang"] == lang and p["level"] == level]
            summary.append({
                "lang": lang, "level": level, "pages": len(group),
                "mean_cer": round(statistics.fmean(p["cer"] for p in group), 4),
                "median_cer": round(statistics.median(p["cer"] for p in group), 4),
                "max_cer": round(max(p["cer"] for p in group), 4),
                "mean_wer": round(statistics.fmean(p["wer"] for p in group), 4),
                "mean_confidence": round(statistics.fmean(p["confidence"] for p in group), 2),
                "seconds_per_page": round(statistics.fmean(p["seconds"] for p in group), 3),
            })  # fmt: skip
    rho = spearmanr([p["confidence"] for p in pages], [p["cer"] for p in pages]).statistic
    eng_cer = statistics.fmean(r["cer"] for r in baseline_rows)
    ours_cer = statistics.fmean(r["ours"] for r in baseline_rows)
    report = {
        "benchmark": "ocr_quality",
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "note": "timings taken on a shared, loaded 2-core machine; error rates do not depend on load",
        },  # fmt: skip
        "setup": {
            "font": font.name,
            "languages": "deu+eng",
            "per_language": args.per_language,
            "seed": args.seed,
            "levels": {k: vars(v) for k, v in LEVELS.items()},
            "bad_page_cer": BAD_CER,
            "sources": "German: gesetze (laws) + XQuAD-de; English: XQuAD-en (../shared/data)",
        },  # fmt: skip
        "by_language_and_level": summary,
        "confidence_vs_cer_spearman": round(float(rho), 4),
        "gate": gate_table(pages),
        "baseline_plain_pytesseract_eng_on_clean_german": {
            "baseline_mean_cer": round(eng_cer, 4),
            "adaptlab_deu_eng_mean_cer": round(ours_cer, 4),
            "cer_ratio_baseline_over_adaptlab": round(eng_cer / ours_cer, 2) if ours_cer else None,
        },  # fmt: skip
        "pages": pages,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", "utf-8")
    for row in summary:
        print(
            f"{row['lang']} {row['level']:>6}: CER {row['mean_cer']:.3f}  WER {row['mean_wer']:.3f}  conf {row['mean_confidence']:.1f}"
        )
    print("gate:", json.dumps(report["gate"]))
    print(
        "baseline:",
        report["baseline_plain_pytesseract_eng_on_clean_german"],
        "spearman",
        report["confidence_vs_cer_spearman"],
    )


if __name__ == "__main__":
    main()
