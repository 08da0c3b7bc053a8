"""Labelled training pairs: a JSONL file of query/positive(/negatives), or the train split of a BEIR folder."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from adaptlab.errors import AdaptlabError
from adaptlab.eval.beir import load_beir
from adaptlab.eval.retrieval_eval import document_text
from adaptlab.train.pairs import Pair

logger = logging.getLogger(__name__)


def read_jsonl_pairs(path: Path) -> list[Pair]:
    """One object per line with string `query` and `positive`; optional `negatives` (list), `doc_id`, and
    `rule` / `chunk_id` (provenance, kept when the file was written by `write_pairs`).

    Bad lines are skipped and reported (a warning naming the first few); only a file without a single good
    line is an error.
    """
    pairs: list[Pair] = []
    bad: list[str] = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                pairs.append(_pair(json.loads(line), path, number))
            except json.JSONDecodeError as exc:
                bad.append(f"line {number}: invalid JSON ({exc.msg})")
            except ValueError as exc:
                bad.append(f"line {number}: {exc}")
    if not pairs:
        raise AdaptlabError(f"{path}: no valid pair" + (f" ({bad[0]})" if bad else ""))
    if bad:
        shown = "; ".join(bad[:3]) + (f"; … {len(bad) - 3} more" if len(bad) > 3 else "")
        logger.warning("%s: skipped %d bad line(s): %s", path, len(bad), shown)
    return pairs


def _pair(row: object, path: Path, number: int) -> Pair:
    if not isinstance(row, dict) or not isinstance(row.get("query"), str) or not isinstance(row.get("positive"), str):
        raise ValueError("expected an object with string 'query' and 'positive'")
    negatives = row.get("negatives") or []
    if not isinstance(negatives, list) or not all(isinstance(n, str) for n in negatives):
        raise ValueError("'negatives' must be a list of strings")
    doc_id = str(row.get("doc_id") or row.get("positive_id") or f"{path.name}:{number}")
    rule, chunk_id = str(row.get("rule") or "labelled"), str(row.get("chunk_id") or "")
    return Pair(row["query"], row["positive"], doc_id, rule, chunk_id, tuple(negatives))


def read_beir_pairs(path: Path, split: str = "train") -> list[Pair]:
    """(query, relevant document) for every positive judgment in `qrels/<split>.tsv`."""
    dataset = load_beir(path, split)
    return [
        Pair(dataset.queries[qid], document_text(dataset.corpus[doc_id]), doc_id, f"beir-{split}")
        for qid, docs in dataset.qrels.items()
        for doc_id, score in docs.items()
        if score > 0 and doc_id in dataset.corpus
    ]


def read_labelled_pairs(source: Path) -> list[Pair]:
    """A `.jsonl` file or a BEIR folder with `qrels/train.tsv`."""
    if source.is_dir():
        if not (source / "qrels" / "train.tsv").is_file():
            raise AdaptlabError(f"{source}: a BEIR folder for training needs qrels/train.tsv")
        return read_beir_pairs(source)
    if source.is_file():
        return read_jsonl_pairs(source)
    raise AdaptlabError(f"training pairs '{source}' not found: give 'corpus', a .jsonl file or a BEIR folder")
