"""Parallel German–English text for multilingual knowledge distillation (Reimers & Gurevych 2020).

The student learns to map both a German sentence and its English side onto the frozen teacher's
embedding of the English side (MSELoss), so German queries land where English documents are.
Sources in the shared data: Tatoeba deu–eng, STSb de/en (train split, row-aligned) and the German
and English terms of the OEO train classes (never the test classes).
"""

from __future__ import annotations

import csv
from pathlib import Path

from adaptlab.datasets import dataset_dir
from adaptlab.errors import AdaptlabError
from adaptlab.eval.oeo import class_split, oeo_classes

PARALLEL_SOURCES = ("tatoeba", "stsb", "oeo")


def tatoeba_pairs(folder: Path) -> list[tuple[str, str]]:
    """(english, german) lines of the aligned Tatoeba files."""
    en = (folder / "tatoeba.deu-eng.eng").read_text(encoding="utf-8").splitlines()
    de = (folder / "tatoeba.deu-eng.deu").read_text(encoding="utf-8").splitlines()
    if len(en) != len(de):
        raise AdaptlabError(f"{folder}: Tatoeba files differ in line count ({len(en)} vs {len(de)})")
    return [(e.strip(), d.strip()) for e, d in zip(en, de) if e.strip() and d.strip()]


def stsb_pairs(folder: Path, split: str = "train") -> list[tuple[str, str]]:
    """(english, german) sentences of the row-aligned STSb files, both sentences of each row, deduplicated."""
    def rows(lang: str) -> list[list[str]]:
        with open(folder / f"stsb-{lang}-{split}.csv", encoding="utf-8", newline="") as f:
            return list(csv.reader(f))

    en_rows, de_rows = rows("en"), rows("de")
    if len(en_rows) != len(de_rows):
        raise AdaptlabError(f"{folder}: STSb {split} files differ in row count")
    pairs = [(e[i], d[i]) for e, d in zip(en_rows, de_rows) for i in (0, 1) if len(e) > 1 and len(d) > 1]
    return list(dict.fromkeys((e.strip(), d.strip()) for e, d in pairs if e.strip() and d.strip()))


def oeo_term_pairs(folder: Path) -> list[tuple[str, str]]:
    """(English label, German term) of the OEO train classes."""
    return [
        (entry["label_en"], term)
        for entry in oeo_classes(folder)
        if entry["label_en"] and class_split(entry["iri"]) == "train"
        for term in entry["terms_de"]
    ]


def parallel_pairs(sources: tuple[str, ...] = ("tatoeba", "stsb")) -> list[tuple[str, str]]:
    """(english, german) pairs from the named sources of the shared data, deduplicated."""
    unknown = [s for s in sources if s not in PARALLEL_SOURCES]
    if unknown:
        raise AdaptlabError(f"unknown parallel source {unknown[0]!r}; choose from {', '.join(PARALLEL_SOURCES)}")
    pairs: list[tuple[str, str]] = []
    if "tatoeba" in sources:
        pairs += tatoeba_pairs(dataset_dir("tatoeba"))
    if "stsb" in sources:
        pairs += stsb_pairs(dataset_dir("stsb-multi-mt"))
    if "oeo" in sources:
        pairs += oeo_term_pairs(dataset_dir("oeo"))
    return list(dict.fromkeys(pairs))
