"""Rules: fields filled from tables, "Label: value" lines, the schema's patterns and cue words.

Precision first: a field is filled only when a rule finds it; what rules miss stays empty for the
LLM (or the user) to fill. Order per field: label line, `x-patterns`, a typed value next to a cue
word, then the only value of that type in the document.
"""

from __future__ import annotations

import re
from typing import Any

from adaptlab.extract.schema import FieldSpec, RecordSchema
from adaptlab.extract.tables import Table, find_tables
from adaptlab.extract.values import (
    Found,
    find_dates,
    find_quantities,
    parse_date,
    parse_number,
    parse_quantity,
    term_pattern,
)

CUE_WINDOW = 90  # characters after a cue word in which its value is looked for
_UNIT_IN_LABEL = re.compile(r"\((?:in\s+)?([kMGT]?W(?:h)?p?)\)", re.IGNORECASE)
_SEGMENT_SPLIT = re.compile(r"\n|;\s+|\s\|\s")
_TRUE = {"ja", "yes", "true", "wahr", "x"}
_FALSE = {"nein", "no", "false", "falsch"}
MIN_TABLE_FIELDS = 2


def _label_regex(spec: FieldSpec) -> re.Pattern[str]:
    labels = "|".join(re.escape(label) for label in sorted(spec.labels, key=len, reverse=True))
    return re.compile(
        rf"^[\s>*•\-]*(?:{labels})(?P<extra>\s*\([^)\n]{{0,25}}\))?\s*[:=\t]\s*(?P<value>.+?)\s*$",
        re.IGNORECASE,
    )


def _clean_string(value: str) -> str:
    return value.strip().strip("„“”\"'»«").strip().rstrip(".,;").strip()


def resolve_enum(spec: FieldSpec, text: str, first_only: bool = True) -> Found | None:
    """The enum value whose name or synonym occurs earliest in `text`."""
    best: Found | None = None
    for value in spec.enum:
        for term in [value, *spec.synonyms.get(value, [])]:
            match = term_pattern(term).search(text)
            if match and (best is None or match.start() < best.start or
                          (match.start() == best.start and match.end() > best.end)):  # fmt: skip
                best = Found(value, match.start(), match.end())
    return best


def parse_value(spec: FieldSpec, raw: str, unit_hint: str | None = None) -> Any:
    """A label value or table cell as the field's type; None when it does not parse."""
    raw = raw.strip()
    if not raw or raw in {"-", "–", "—", "n/a", "k.A."}:
        return None
    if spec.type == "date":
        return parse_date(raw)
    if spec.type in ("number", "integer"):
        if spec.unit:
            number = parse_quantity(raw, spec.unit, unit_hint)
        else:
            match = re.search(r"\d[\d.,]*", raw)
            number = parse_number(match.group()) if match else None
        if number is None:
            return None
        return int(round(number)) if spec.type == "integer" else number
    if spec.type == "enum":
        found = resolve_enum(spec, raw)
        return found.value if found else None
    if spec.type == "boolean":
        word = raw.casefold().rstrip(".")
        return True if word in _TRUE else False if word in _FALSE else None
    value = _clean_string(raw)
    if spec.pattern:
        body = spec.pattern.strip("^$")
        match = re.search(rf"(?<!\w){body}(?!\w)", value)
        return match.group() if match else None
    return value or None


def _typed_candidates(spec: FieldSpec, text: str) -> list[Found]:
    """Every value of the field's type in the text (dates, quantities, pattern matches)."""
    if spec.type == "date":
        return find_dates(text)
    if spec.type in ("number", "integer") and spec.unit:
        return find_quantities(text, spec.unit)
    if spec.type == "string" and spec.pattern:
        body = spec.pattern.strip("^$")
        return [
            Found(m.group(), m.start(), m.end()) for m in re.finditer(rf"(?<![\w.,]){body}(?![\w.,])", text)
        ]
    return []


class RuleExtractor:
    """Fills a schema's fields from text by rules; tables give one record per row."""

    def __init__(self, schema: RecordSchema) -> None:
        self.schema = schema
        self._labels = {spec.name: _label_regex(spec) for spec in schema.fields}

    def extract(self, text: str) -> list[dict[str, Any]]:
        """Records found in the text: rows of matching tables, else one record (possibly empty)."""
        rows = [record for table in find_tables(text) for record in self.table_records(table)]
        return rows or [self.document_record(text)]

    # --- tables ----------------------------------------------------------------------------------

    def map_header(self, header: list[str]) -> dict[int, tuple[FieldSpec, str | None]]:
        """Column → (field, unit named in the header); each field at most once, best label first."""
        mapping: dict[int, tuple[FieldSpec, str | None]] = {}
        scored = []
        for column, cell in enumerate(header):
            name = _UNIT_IN_LABEL.sub("", cell).strip().casefold()
            for spec in self.schema.fields:
                for label in spec.labels:
                    if name == label.casefold() or name.startswith(label.casefold() + " "):
                        scored.append((name == label.casefold(), len(label), column, spec))
        used: set[str] = set()
        for _exact, _length, column, spec in sorted(scored, key=lambda s: (s[0], s[1]), reverse=True):
            if column in mapping or spec.name in used:
                continue
            unit = _UNIT_IN_LABEL.search(header[column])
            mapping[column] = (spec, unit.group(1) if unit else None)
            used.add(spec.name)
        return mapping

    def table_records(self, table: Table) -> list[dict[str, Any]]:
        mapping = self.map_header(table.header)
        if len(mapping) < min(MIN_TABLE_FIELDS, len(self.schema.fields)):
            return []
        records = []
        for row in table.rows:
            record = {
                spec.name: parse_value(spec, row[column], unit) for column, (spec, unit) in mapping.items()
            }
            records.append({name: record.get(name) for name in self.schema.names})
        return records

    # --- running text ----------------------------------------------------------------------------

    def document_record(self, text: str) -> dict[str, Any]:
        return {spec.name: self.find_field(spec, text) for spec in self.schema.fields}

    def find_field(self, spec: FieldSpec, text: str) -> Any:
        for finder in (self._by_label, self._by_pattern, self._by_cue, self._by_uniqueness):
            value = finder(spec, text)
            if value is not None:
                return value
        return None

    def _by_label(self, spec: FieldSpec, text: str) -> Any:
        for segment in _SEGMENT_SPLIT.split(text):
            match = self._labels[spec.name].match(segment)
            if match:
                unit = _UNIT_IN_LABEL.search(match["extra"] or "")
                value = parse_value(spec, match["value"], unit.group(1) if unit else None)
                if value is not None:
                    return value
        return None

    def _by_pattern(self, spec: FieldSpec, text: str) -> Any:
        for regex in spec.patterns:
            for match in re.finditer(regex, text):
                value = parse_value(spec, match["value"])
                if value is not None:
                    return value
        return None

    def _by_cue(self, spec: FieldSpec, text: str) -> Any:
        if not spec.cues:
            return None
        candidates = _typed_candidates(spec, text)
        if spec.type == "enum":
            return None
        best: tuple[int, Any] | None = None
        for cue in spec.cues:
            for match in term_pattern(cue).finditer(text):
                for found in candidates:
                    after = found.start - match.end()
                    before = match.start() - found.end
                    distance = (
                        after
                        if 0 <= after <= CUE_WINDOW
                        else before * 2
                        if 0 <= before <= CUE_WINDOW // 2
                        else None
                    )
                    if distance is not None and (best is None or distance < best[0]):
                        best = (distance, found.value)
        return best[1] if best else None

    def _by_uniqueness(self, spec: FieldSpec, text: str) -> Any:
        if spec.type == "enum":
            found = resolve_enum(spec, text)
            return found.value if found else None
        values = {found.value for found in _typed_candidates(spec, text)}
        return values.pop() if len(values) == 1 else None
