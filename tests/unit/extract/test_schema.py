"""JSON schema → pydantic model: types, enums, dates, patterns, bounds; bad schemas name the property."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from adaptlab.extract.schema import SchemaError, describe_errors, load_schema, parse_schema


def test_builtin_mastr_schema_validates_and_coerces() -> None:
    schema = load_schema("mastr-unit")
    record = schema.validate({"name": "WEA 1", "technology": "wind", "net_capacity_kw": "3600",
                              "commissioning_date": "2017-09-14", "postcode": "25813"})  # fmt: skip
    assert record.commissioning_date == dt.date(2017, 9, 14) and record.net_capacity_kw == 3600.0
    with pytest.raises(ValidationError) as info:
        schema.validate({"technology": "coal", "net_capacity_kw": -1, "postcode": "2581", "colour": "red"})
    message = describe_errors(info.value)
    for part in ("name: Field required", "technology: Input should be", "net_capacity_kw: Input should be greater",
                 "postcode: String should match pattern", "colour: Extra inputs are not permitted"):  # fmt: skip
        assert part in message


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "array"}, 'expected an object schema with "type": "object"'),
        (
            {"type": "object", "properties": {"a": {"type": "array"}}},
            "property 'a' has unsupported type 'array'",
        ),
        (
            {"type": "object", "properties": {"a": {"enum": []}}},
            "property 'a': enum must be a non-empty list",
        ),
        (
            {"type": "object", "properties": {"a": {}}, "required": ["b"]},
            "required lists unknown properties b",
        ),
        (
            {"type": "object", "properties": {"a": {"x-patterns": ["(\\d+)"]}}},
            "x-patterns need a (?P<value>...) group",
        ),
        ({"type": "object", "properties": {"a": {"pattern": "("}}}, "property 'a': bad pattern"),
    ],
)
def test_unusable_schemas_are_one_line_errors_naming_the_property(schema: dict, message: str) -> None:
    with pytest.raises(SchemaError) as info:
        parse_schema(schema, "s.json")
    assert str(info.value).startswith("s.json: ") and message in str(info.value)


def test_schema_file_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", "utf-8")
    with pytest.raises(SchemaError, match=r"broken.json: not valid JSON"):
        load_schema(broken)
    with pytest.raises(SchemaError, match=r"no such file \(built-in schemas: mastr-unit, schedule\)"):
        load_schema(tmp_path / "missing.json")
    flat = tmp_path / "flat.json"
    flat.write_text(
        json.dumps({"type": "object", "properties": {"n": {"type": "integer"}, "ok": {"type": "boolean"}}})
    )
    assert load_schema(flat).validate({"n": "3", "ok": "true"}).model_dump() == {"n": 3, "ok": True}
