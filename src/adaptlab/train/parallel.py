"""Parallel German–English text for multilingual knowledge distillation (Reimers & Gurevych 2020), and
English-only text that teaches a query bridge (train/bridge.py) how questions and requests look.

The student learns to map both a German sentence and its English side onto the frozen teacher's
embedding of the English side (MSELoss), so German queries land where English documents are.
Sources in the shared data: Tatoeba deu–eng, STSb de/en (train split, row-aligned) and the German
and English terms of the OEO train classes (never the test classes).
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from pathlib import Path

from adaptlab.datasets import dataset_dir
from adaptlab.errors import AdaptlabError
from adaptlab.eval.oeo import class_split, oeo_classes

PARALLEL_SOURCES = ("tatoeba", "stsb", "oeo")
ENGLISH_SOURCES = ("instructions", "responses", "oeo-definitions")
_HUMAN_TURN = re.compile(r"Human: (.*?)(?=\n\nAssistant:|$)", re.S)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


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


def _llm_demo_turns(folder: Path) -> tuple[list[str], list[str]]:
    """(user turns, assistant answers) of the LLM demo sets: Alpaca, the DPO demo and hh-rlhf dialogues."""
    requests: list[str] = []
    answers: list[str] = []
    for row in json.loads((folder / "alpaca_en_demo.json").read_text(encoding="utf-8")):
        requests.append(f"{row.get('instruction', '')} {row.get('input', '')}".strip())
        answers.append(str(row.get("output", "")))
    for row in json.loads((folder / "dpo_en_demo.json").read_text(encoding="utf-8")):
        requests += [turn["value"] for turn in row.get("conversations", []) if turn.get("from") == "human"]
        answers.append(str((row.get("chosen") or {}).get("value", "")))
    with gzip.open(folder / "hh-rlhf-harmless-base-test.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            requests += [turn.strip() for turn in _HUMAN_TURN.findall(json.loads(line).get("chosen", ""))]
    return requests, answers


def _leading_sentences(text: str, count: int = 3) -> list[str]:
    """The first `count` sentences of moderate length (headings, list stubs and run-on blocks skipped)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if 20 <= len(s.strip()) <= 300][:count]


def english_texts(sources: tuple[str, ...] = ("instructions",), max_chars: int = 1000) -> list[str]:
    """English-only text of the named sources, deduplicated: instructions (requests and questions of the LLM
    demo sets), responses (leading sentences of their answers), oeo-definitions (OEO train classes only)."""
    unknown = [s for s in sources if s not in ENGLISH_SOURCES]
    if unknown:
        raise AdaptlabError(f"unknown English source {unknown[0]!r}; choose from {', '.join(ENGLISH_SOURCES)}")
    texts: list[str] = []
    if "instructions" in sources or "responses" in sources:
        requests, answers = _llm_demo_turns(dataset_dir("llm"))
        if "instructions" in sources:
            texts += requests
        if "responses" in sources:
            texts += [s for answer in answers for s in _leading_sentences(answer)]
    if "oeo-definitions" in sources:
        texts += [entry["definition"] for entry in oeo_classes(dataset_dir("oeo"))
                  if entry["definition"] and class_split(entry["iri"]) == "train"]
    return [t for t in dict.fromkeys(t.strip() for t in texts) if t and len(t) <= max_chars]
