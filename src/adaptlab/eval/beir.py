"""BEIR datasets (corpus.jsonl, queries.jsonl, qrels/<split>.tsv): the format every quality claim uses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adaptlab.errors import AdaptlabError

QRELS_HEADER = ("query-id", "corpus-id", "score")


@dataclass
class BeirDataset:
    """A retrieval test set: documents, the queries that have judgments, and graded relevance per query."""

    name: str
    corpus: dict[str, dict[str, Any]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    def stats(self) -> dict[str, int]:
        """Sizes to log next to the metrics, so a number always says what it was measured on."""
        return {
            "documents": len(self.corpus),
            "queries": len(self.queries),
            "judgments": sum(len(docs) for docs in self.qrels.values()),
            "relevant": sum(score > 0 for docs in self.qrels.values() for score in docs.values()),
        }


def load_beir(path: Path, split: str = "test") -> BeirDataset:
    """Read a BEIR folder; queries without judgments in `split` are dropped (they cannot be scored)."""
    path = Path(path)
    corpus = _read_corpus(path / "corpus.jsonl")
    all_queries = _read_queries(path / "queries.jsonl")
    qrels = _read_qrels(path / "qrels" / f"{split}.tsv")
    unknown = [qid for qid in qrels if qid not in all_queries]
    if unknown:
        raise AdaptlabError(
            f"{path / 'qrels' / f'{split}.tsv'}: {len(unknown)} query ids not in queries.jsonl "
            f"(first: {unknown[0]!r})"
        )
    queries = {qid: all_queries[qid] for qid in qrels}
    return BeirDataset(name=path.name, corpus=corpus, queries=queries, qrels=qrels)


def write_beir(ds: BeirDataset, path: Path, split: str = "test") -> None:
    """Write `ds` as a BEIR folder that `load_beir` (and the BEIR tooling) reads back unchanged."""
    path = Path(path)
    (path / "qrels").mkdir(parents=True, exist_ok=True)
    with open(path / "corpus.jsonl", "w", encoding="utf-8") as f:
        for doc_id, doc in ds.corpus.items():
            f.write(json.dumps({"_id": doc_id, **doc}, ensure_ascii=False) + "\n")
    with open(path / "queries.jsonl", "w", encoding="utf-8") as f:
        for qid, text in ds.queries.items():
            f.write(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) + "\n")
    with open(path / "qrels" / f"{split}.tsv", "w", encoding="utf-8") as f:
        f.write("\t".join(QRELS_HEADER) + "\n")
        for qid, docs in ds.qrels.items():
            for doc_id, score in docs.items():
                f.write(f"{qid}\t{doc_id}\t{score}\n")


def _lines(file: Path) -> Iterator[tuple[int, str]]:
    """Non-empty lines with 1-based numbers; a missing file is a user error, not a traceback."""
    if not file.is_file():
        raise AdaptlabError(f"{file}: file not found (BEIR folders hold corpus.jsonl, queries.jsonl, qrels/)")
    with open(file, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                yield number, line.rstrip("\r\n")


def _records(file: Path) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """JSONL records with their line number and string `_id`."""
    for number, line in _lines(file):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AdaptlabError(f"{file}:{number}: invalid JSON ({exc.msg})") from None
        if not isinstance(record, dict) or "_id" not in record or not isinstance(record.get("text"), str):
            raise AdaptlabError(f"{file}:{number}: expected an object with '_id' and a string 'text'")
        yield number, str(record.pop("_id")), record


def _read_corpus(file: Path) -> dict[str, dict[str, Any]]:
    corpus: dict[str, dict[str, Any]] = {}
    for number, doc_id, record in _records(file):
        if doc_id in corpus:
            raise AdaptlabError(f"{file}:{number}: duplicate document id {doc_id!r}")
        record["title"] = record.get("title") or ""
        corpus[doc_id] = record
    return corpus


def _read_queries(file: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    for number, qid, record in _records(file):
        if qid in queries:
            raise AdaptlabError(f"{file}:{number}: duplicate query id {qid!r}")
        queries[qid] = record["text"]
    return queries


def _read_qrels(file: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for number, line in _lines(file):
        fields = line.split("\t")
        if number == 1 and tuple(fields) == QRELS_HEADER:
            continue
        if len(fields) != 3:
            raise AdaptlabError(f"{file}:{number}: expected 'query-id<TAB>corpus-id<TAB>score', got {line!r}")
        qid, doc_id, score = fields
        try:
            value = int(score)
        except ValueError:
            raise AdaptlabError(f"{file}:{number}: score must be an integer, got {score!r}") from None
        qrels.setdefault(qid, {})[doc_id] = value
    return qrels
