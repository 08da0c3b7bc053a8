"""The simple part of Milvus' filter syntax, evaluated on corpus records, for retrievers without Milvus.

`lang == "de" and law == "EnWG"`, `page >= 3`: comparisons of one field with one literal, joined by
`and`. BM25 evaluates them itself rather than asking Milvus for the allowed ids, because a BM25 index
needs no embedded collection and a broad filter would otherwise ship most of the corpus' ids per query.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from adaptlab.corpus.store import ChunkRecord
from adaptlab.errors import AdaptlabError

CHUNK_FIELDS = ("lang", "source", "doc_id", "heading", "title", "page")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
}
_CLAUSE = re.compile(
    r"""\s*(?P<field>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>==|!=|>=|<=|>|<)\s*"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|-?\d+(?:\.\d+)?|true|false|True|False)\s*"""
)
_AND = re.compile(r"(?:and|AND|&&)(?=\s)")
SYNTAX = 'field OP value joined by "and" (OP: == != < <= > >=; value: "text", a number, true/false)'


@dataclass(frozen=True)
class Clause:
    field: str
    op: str
    value: str | int | float | bool

    def matches(self, record: ChunkRecord) -> bool:
        actual = field_value(record, self.field)
        if actual is None:
            return False
        try:
            return bool(_OPS[self.op](actual, self.value))
        except TypeError:  # "abc" > 3: never true, as in Milvus
            return False


@dataclass(frozen=True)
class RecordFilter:
    """All clauses must hold."""

    clauses: tuple[Clause, ...]

    def matches(self, record: ChunkRecord) -> bool:
        return all(c.matches(record) for c in self.clauses)

    def check_fields(self, records: Iterable[ChunkRecord]) -> None:
        """A field no chunk has is a typo, not an empty result: say so."""
        known = set(CHUNK_FIELDS)
        for rec in records:
            known.update(_metadata_names(rec))
        for clause in self.clauses:
            if clause.field not in known:
                raise AdaptlabError(f"filter field '{clause.field}' is not in the corpus; known: {', '.join(sorted(known))}")


def parse_filter(expr: str) -> RecordFilter:
    """Parse `expr` or raise an AdaptlabError that shows the supported syntax."""
    clauses: list[Clause] = []
    pos = 0
    while True:  # clause ("and" clause)*, scanned so that "and" inside a quoted value stays text
        match = _CLAUSE.match(expr, pos)
        if not match:
            raise AdaptlabError(f"filter {expr!r} not supported for BM25: use {SYNTAX}")
        clauses.append(Clause(match["field"], match["op"], _literal(match["value"])))
        pos = match.end()
        if pos == len(expr):
            return RecordFilter(tuple(clauses))
        joiner = _AND.match(expr, pos)
        if not joiner:
            raise AdaptlabError(f"filter {expr!r} not supported for BM25: use {SYNTAX}")
        pos = joiner.end()


def field_value(record: ChunkRecord, field: str) -> Any:
    """A chunk field, else a document metadata value under its Milvus-safe name (None if absent)."""
    if field == "page":
        return record.page or 0  # Milvus stores a missing page as 0
    if field in CHUNK_FIELDS:
        return getattr(record, field)
    for key, value in record.doc_metadata.items():
        if _safe_name(key) == field:
            return value
    return None


def _metadata_names(record: ChunkRecord) -> set[str]:
    return {_safe_name(key) for key in record.doc_metadata}


def _safe_name(key: str) -> str:
    """The name Milvus' dynamic field uses for a metadata key (see vectors.milvus_store)."""
    return re.sub(r"[^0-9A-Za-z_]", "_", key)


def _literal(text: str) -> str | int | float | bool:
    if text[0] in "\"'":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return float(text) if "." in text else int(text)
