"""Per file: read the text (OCR for scans), rules first, the LLM for what rules missed, validate.

A file that cannot be read or yields no valid record is reported with a one-line reason; the other
files are processed regardless.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from adaptlab.corpus.loaders import LoaderOptions, LoadError, load_file
from adaptlab.corpus.loaders.text import decode_bytes
from adaptlab.extract.llm import Complete, LlmExtractor
from adaptlab.extract.rules import RuleExtractor
from adaptlab.extract.schema import RecordSchema, describe_errors

RAW_TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".csv", ".tsv"})  # read as-is: tables stay intact


@dataclass
class FileResult:
    """What one input gave: validated records (JSON-ready), how each was made, or why none."""

    path: str
    records: list[dict[str, Any]] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    error: str | None = None

    def lines(self) -> list[str]:
        """JSON lines for records.jsonl: source, record index, method and the record itself."""
        return [
            json.dumps({"source": self.path, "index": n, "method": m, "record": r}, ensure_ascii=False)
            for n, (r, m) in enumerate(zip(self.records, self.methods))
        ]


def read_text(path: Path, options: LoaderOptions) -> str:
    """Plain-text formats verbatim; everything else (PDF, HTML, images by OCR) through the loaders."""
    if path.suffix.lower() in RAW_TEXT_SUFFIXES and path.is_file():
        try:
            return decode_bytes(path.read_bytes(), allow_cp1252=True)
        except OSError as err:
            raise LoadError(f"cannot read file ({err.strerror or err})") from None
    docs = load_file(path, options)
    return "\n\n".join(f"{doc.title}\n{doc.text}" if doc.title else doc.text for doc in docs)


class Extractor:
    """Rules for every file, then (when a model is given) the LLM for fields the rules left empty."""

    def __init__(self, schema: RecordSchema, complete: Complete | None = None,
                 options: LoaderOptions | None = None) -> None:  # fmt: skip
        self.schema = schema
        self.rules = RuleExtractor(schema)
        self.llm = LlmExtractor(schema, complete) if complete else None
        self.options = options or LoaderOptions()

    def extract_text(self, text: str, source: str = "") -> FileResult:
        result = FileResult(source)
        candidates = self.rules.extract(text)
        problems = []
        for record in candidates:
            method = "rules"
            if self.llm and len(candidates) == 1:
                outcome = self.llm.fill(text, record)
                if outcome.values:
                    record, method = {**record, **outcome.values}, "rules+llm"
                elif outcome.error:
                    method = "rules (llm answer rejected: " + outcome.error[:120] + ")"
            if all(value is None for value in record.values()):
                continue
            try:
                model = self.schema.validate({k: v for k, v in record.items() if v is not None})
            except ValidationError as err:
                problems.append(describe_errors(err))
                continue
            result.records.append(model.model_dump(mode="json"))
            result.methods.append(method)
        if not result.records:
            result.error = f"no valid record ({problems[0]})" if problems else "no record found"
        return result

    def extract_file(self, path: Path) -> FileResult:
        try:
            text = read_text(path, self.options)
        except LoadError as err:
            return FileResult(str(path), error=str(err))
        result = self.extract_text(text, str(path))
        return result
