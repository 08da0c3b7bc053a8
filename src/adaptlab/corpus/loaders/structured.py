"""JSON, JSONL and CSV/TSV: one document per record, the text taken from a configurable field.

Users' exports put their text under different names (`text`, `body`, `answer`...), so which field
is text, title, id and metadata comes from LoaderOptions (the `corpus:` config), and a file whose
records have none of the text fields fails with the field names it does have. MaStR unit tables
and field lists are recognised by their header and handed to `mastr`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from adaptlab.corpus.loaders import mastr
from adaptlab.corpus.loaders.base import LoaderOptions, LoadError
from adaptlab.corpus.loaders.text import read_text, short_title
from adaptlab.corpus.types import Document, Section

logger = logging.getLogger(__name__)

Record = tuple[str, Any]
"""(position in the file, the parsed record): position is the key when a record has no id."""

CSV_DELIMITERS = ",;\t|"
_MAX_CSV_FIELD_CHARS = 64 * 1024 * 1024
_LIST_KEYS_SHOWN = 12


# --- records → documents -------------------------------------------------------------------------


def records_to_documents(
    path: Path, records: Iterable[Record], options: LoaderOptions, fmt: str
) -> list[Document]:
    """Documents for the records that have text; a file where none has any is an error."""
    documents: list[Document] = []
    found_fields: dict[str, None] = {}
    keys: set[str] = set()
    no_text = 0
    for position, record in records:
        fields = record if isinstance(record, dict) else {}
        found_fields.update(dict.fromkeys(map(str, fields)))
        text_field, text = record_text(record, options.text_fields)
        if not text:
            no_text += 1
            continue
        key = _unique_key(path, _record_key(fields, options.id_field) or position, position, keys)
        documents.append(_record_document(path, key, fields, text, text_field, options, fmt))
    if not documents:
        raise LoadError(_no_text_reason(options.text_fields, list(found_fields), no_text))
    if no_text:
        logger.warning(
            "%s: skipped %d record(s) without text in %s", path, no_text, ", ".join(options.text_fields)
        )
    return documents


def record_text(record: Any, text_fields: list[str]) -> tuple[str | None, str]:
    """(field used, text): the first text field present and non-empty; a bare string is its own text."""
    if isinstance(record, str):
        return None, record.strip()
    if not isinstance(record, dict):
        return None, ""
    for name in text_fields:
        value = record.get(name)
        if isinstance(value, list):
            value = "\n".join(str(item) for item in value if _is_scalar(item))
        if _is_scalar(value) and str(value).strip():
            return name, str(value)
    return None, ""


def _record_key(fields: dict[str, Any], id_field: str | None) -> str:
    value = fields.get(id_field) if id_field else None
    return str(value).strip() if _is_scalar(value) else ""


def _unique_key(path: Path, key: str, position: str, seen: set[str]) -> str:
    """Repeated ids would make two records one document; the position tells them apart."""
    if key in seen:
        logger.warning("%s: duplicate id %r at record %s, keyed as %s#%s", path, key, position, key, position)
        key = f"{key}#{position}"
    seen.add(key)
    return key


def _record_document(
    path: Path,
    key: str,
    fields: dict[str, Any],
    text: str,
    text_field: str | None,
    options: LoaderOptions,
    fmt: str,
) -> Document:
    title_value = fields.get(options.title_field) if options.title_field else None
    title = str(title_value).strip() if _is_scalar(title_value) and str(title_value).strip() else ""
    used = {text_field, options.title_field, options.id_field}
    names = (
        options.metadata_fields
        if options.metadata_fields is not None
        else [f for f in fields if f not in used]
    )
    metadata = {name: fields[name] for name in names if _is_scalar(fields.get(name)) and fields[name] != ""}
    metadata["format"] = fmt
    return Document(
        source=str(path),
        key=key,
        title=title or short_title(text, f"{path.stem} {key}"),
        sections=[Section(text=text)],
        metadata=metadata,
    )


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _no_text_reason(text_fields: list[str], found: list[str], no_text: int) -> str:
    if not no_text:
        return "no records found"
    shown = ", ".join(found[:_LIST_KEYS_SHOWN]) + (", …" if len(found) > _LIST_KEYS_SHOWN else "")
    return f"no text field (looked for {', '.join(text_fields)}; found: {shown or 'none'}) — set corpus.text_fields"


# --- JSON / JSONL --------------------------------------------------------------------------------


def load_json(path: Path, options: LoaderOptions) -> list[Document]:
    """A list of records, an object holding such a list under some key, or one record."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise LoadError(f"invalid JSON on line {err.lineno}: {err.msg}") from None
    return records_to_documents(path, json_records(data), options, "json")


def json_records(data: Any) -> list[Record]:
    """Records numbered from 1; of several lists in an object, the longest is the record list."""
    if isinstance(data, dict):
        lists = [value for value in data.values() if isinstance(value, list) and value]
        records = max(lists, key=len) if lists else [data]
    elif isinstance(data, list):
        records = data
    else:
        raise LoadError(f"JSON holds a single {type(data).__name__}, expected records (objects)")
    return [(str(n), record) for n, record in enumerate(records, 1)]


def load_jsonl(path: Path, options: LoaderOptions) -> list[Document]:
    """One record per line, keyed by line number; bad lines are skipped unless all are bad."""
    bad: list[str] = []
    records = list(_jsonl_records(read_text(path), bad))
    if bad and not records:
        raise LoadError(f"no valid JSON line ({bad[0]})")
    if bad:
        logger.warning("%s: skipped %d bad line(s): %s", path, len(bad), "; ".join(bad[:3]))
    return records_to_documents(path, records, options, "jsonl")


def _jsonl_records(text: str, bad: list[str]) -> Iterator[Record]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            bad.append(f"line {number}: invalid JSON: {err.msg}")
            continue
        if isinstance(record, (dict, str)):
            yield str(number), record
        else:
            bad.append(f"line {number}: a JSON {type(record).__name__}, not an object")


# --- CSV / TSV -----------------------------------------------------------------------------------


def load_csv(path: Path, options: LoaderOptions) -> list[Document]:
    """A header row, then one record per row; MaStR tables and field lists get their own loader."""
    text = read_text(path, allow_cp1252=True)
    csv.field_size_limit(max(csv.field_size_limit(), _MAX_CSV_FIELD_CHARS))  # long texts in one cell
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(path, text, options))
    try:
        header = [name.strip() for name in next(reader, [])]
        if not any(header):
            raise LoadError("CSV has no header row")
        if mastr.is_unit_header(header):
            return mastr.load_unit_rows(path, header, reader, options)
        if mastr.is_schema_header(header):
            return mastr.load_schema_rows(path, reader)
        rows = ((str(n), dict(zip(header, row))) for n, row in enumerate(reader, 1))
        return records_to_documents(path, rows, options, "csv")
    except csv.Error as err:
        raise LoadError(f"invalid CSV on line {reader.line_num}: {err}") from None


def csv_delimiter(path: Path, text: str, options: LoaderOptions) -> str:
    """The configured delimiter, tab for .tsv, else the candidate that splits the header most often."""
    if options.csv_delimiter:
        return options.csv_delimiter
    if path.suffix.lower() == ".tsv":
        return "\t"
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    counts = {delimiter: header.count(delimiter) for delimiter in CSV_DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","
