"""Tables in plain text: Markdown pipe tables and delimited blocks (tab, semicolon, pipe).

A table is a run of at least two consecutive lines that split into the same number (≥ 2) of cells
with the same delimiter; the first line is the header. OCR output and HTML both arrive as text,
so this is the one place tables are recognised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEPARATOR_ROW = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_DELIMITERS = ("|", "\t", ";")


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


def _cells(line: str, delimiter: str) -> list[str]:
    if delimiter == "|":
        line = line.strip()
        if line.startswith("|"):
            line = line[1:]
        if line.endswith("|"):
            line = line[:-1]
    return [cell.strip() for cell in line.split(delimiter)]


def _delimiter(line: str) -> str | None:
    for delimiter in _DELIMITERS:
        if line.count(delimiter) >= (2 if delimiter == "|" and line.strip().startswith("|") else 1):
            return delimiter
    return None


def find_tables(text: str) -> list[Table]:
    """Every table in the text, in order."""
    tables: list[Table] = []
    block: list[list[str]] = []
    current: str | None = None
    for line in text.splitlines() + [""]:
        if _SEPARATOR_ROW.match(line) and current == "|":
            continue
        delimiter = _delimiter(line)
        cells = _cells(line, delimiter) if delimiter else []
        if delimiter and delimiter == current and block and len(cells) == len(block[0]):
            block.append(cells)
            continue
        if len(block) >= 2:
            tables.append(Table(block[0], block[1:]))
        block, current = ([cells], delimiter) if delimiter and len(cells) >= 2 else ([], None)
    return tables
