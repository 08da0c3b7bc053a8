"""A flat JSON schema → a pydantic model, plus the extraction hints its `x-` keys carry.

Supported per property: `type` string / number / integer / boolean (optionally with "null"),
`format: date`, `enum`, `pattern`, `minimum` / `maximum`, `description`. Extraction hints:
`x-labels` (label words in "Label: value" lines and table headers), `x-cues` (words near which a
typed value is looked for in running text), `x-patterns` (regexes with a `value` group),
`x-unit` (a power/energy unit numbers are converted to, e.g. "kW") and `x-synonyms`
(enum value → words that mean it). Nested objects and arrays are out of scope and rejected.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from adaptlab.errors import AdaptlabError

BUILTIN_DIR = Path(__file__).parent / "schemas"
_TYPES: dict[str, type] = {"string": str, "number": float, "integer": int, "boolean": bool}


class SchemaError(AdaptlabError):
    """A schema file we cannot use; the message names the file and the property."""


@dataclass
class FieldSpec:
    """One property: its JSON type and the hints rules use to find it."""

    name: str
    type: str  # string | number | integer | boolean | date | enum
    required: bool = False
    description: str = ""
    enum: list[str] = field(default_factory=list)
    pattern: str | None = None
    unit: str | None = None
    labels: list[str] = field(default_factory=list)
    cues: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    synonyms: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class RecordSchema:
    """The record type (a pydantic model) and its fields' extraction hints."""

    title: str
    fields: list[FieldSpec]
    model: type[BaseModel]
    raw: dict[str, Any]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def validate(self, values: dict[str, Any]) -> BaseModel:
        """The validated record; raises pydantic's ValidationError."""
        return self.model.model_validate(values)


def load_schema(path_or_name: str | Path) -> RecordSchema:
    """A schema file, or a built-in one by name (`mastr-unit`, `schedule`)."""
    path = Path(path_or_name)
    builtin = BUILTIN_DIR / f"{path_or_name}.json"
    if not path.is_file() and builtin.is_file():
        path = builtin
    if not path.is_file():
        names = ", ".join(sorted(p.stem for p in BUILTIN_DIR.glob("*.json")))
        raise SchemaError(f"schema {path_or_name}: no such file (built-in schemas: {names})")
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SchemaError(f"{path}: not valid JSON ({err})") from None
    return parse_schema(raw, str(path))


def parse_schema(raw: Any, where: str = "schema") -> RecordSchema:
    if (
        not isinstance(raw, dict)
        or raw.get("type") != "object"
        or not isinstance(raw.get("properties"), dict)
    ):
        raise SchemaError(f'{where}: expected an object schema with "type": "object" and "properties"')
    required = raw.get("required", [])
    unknown = [name for name in required if name not in raw["properties"]]
    if unknown:
        raise SchemaError(f"{where}: required lists unknown properties {', '.join(unknown)}")
    fields = [_field_spec(name, prop, name in required, where) for name, prop in raw["properties"].items()]
    title = str(raw.get("title") or Path(where).stem)
    return RecordSchema(title, fields, _model(title, fields, raw), raw)


def _field_spec(name: str, prop: Any, required: bool, where: str) -> FieldSpec:
    if not isinstance(prop, dict):
        raise SchemaError(f"{where}: property '{name}' must be an object")
    kinds = prop.get("type", "string")
    kinds = [k for k in (kinds if isinstance(kinds, list) else [kinds]) if k != "null"]
    kind = kinds[0] if len(kinds) == 1 else None
    if "enum" in prop:
        kind = "enum"
        if not prop["enum"] or not all(isinstance(v, str) for v in prop["enum"]):
            raise SchemaError(f"{where}: property '{name}': enum must be a non-empty list of strings")
    elif kind == "string" and prop.get("format") == "date":
        kind = "date"
    elif kind not in _TYPES:
        raise SchemaError(
            f"{where}: property '{name}' has unsupported type {prop.get('type')!r}; "
            "use string, number, integer, boolean, a date string or an enum (flat records only)"
        )
    if prop.get("pattern"):
        try:
            re.compile(prop["pattern"])
        except re.error as err:
            raise SchemaError(f"{where}: property '{name}': bad pattern ({err})") from None
    for regex in prop.get("x-patterns", []):
        try:
            if "value" not in re.compile(regex).groupindex:
                raise SchemaError(f"{where}: property '{name}': x-patterns need a (?P<value>...) group")
        except re.error as err:
            raise SchemaError(f"{where}: property '{name}': bad x-pattern ({err})") from None
    return FieldSpec(
        name=name, type=kind, required=required, description=str(prop.get("description", "")),
        enum=list(prop.get("enum", [])), pattern=prop.get("pattern"), unit=prop.get("x-unit"),
        labels=list(prop.get("x-labels", [])) or [name.replace("_", " ")], cues=list(prop.get("x-cues", [])),
        patterns=list(prop.get("x-patterns", [])), synonyms=dict(prop.get("x-synonyms", {})),
    )  # fmt: skip


def _model(title: str, fields: list[FieldSpec], raw: dict[str, Any]) -> type[BaseModel]:
    definitions: dict[str, Any] = {}
    for spec in fields:
        prop = raw["properties"][spec.name]
        annotation: Any = (
            dt.date
            if spec.type == "date"
            else Literal[tuple(spec.enum)]
            if spec.type == "enum"
            else _TYPES[spec.type]
        )
        constraints = {
            "description": spec.description or None,
            "ge": prop.get("minimum"),
            "le": prop.get("maximum"),
            "pattern": spec.pattern,
        }
        constraints = {k: v for k, v in constraints.items() if v is not None}
        if spec.required:
            definitions[spec.name] = (annotation, Field(..., **constraints))
        else:
            definitions[spec.name] = (Optional[annotation], Field(None, **constraints))
    name = re.sub(r"\W", "", title.title()) or "Record"
    return create_model(name, __config__=ConfigDict(extra="forbid", strict=False), **definitions)


def describe_errors(err: ValidationError) -> str:
    """One line: 'net_capacity_kw: Input should be a valid number; name: Field required'."""
    parts = []
    for item in err.errors():
        location = ".".join(str(p) for p in item["loc"]) or "record"
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts)
