"""Structured extraction: records out of documents, validated against a JSON schema by pydantic.

`schema` turns a flat JSON schema into a pydantic model plus the hints the rules need, `values`
parses numbers, quantities and dates as German and English documents write them, `tables` finds
tables, `rules` fills fields from labels, cue words and patterns, `llm` asks a small local model for
what the rules missed, `extractor` runs both per file, and `evaluate` scores field-level P/R/F1.
"""

from adaptlab.extract.extractor import Extractor, FileResult
from adaptlab.extract.schema import RecordSchema, load_schema

__all__ = ["Extractor", "FileResult", "RecordSchema", "load_schema"]
