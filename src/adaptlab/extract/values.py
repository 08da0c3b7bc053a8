"""Numbers, power quantities and dates as German and English documents write them.

"2.500,5 kW", "2,500.5 kW", "2,5 MW", "3. März 2021", "03.03.2021", "March 3, 2021", "2021-03-03":
each parser returns the value and where it stood, so rules can prefer values near a cue word.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

_MONTHS = {
    "januar": 1, "jänner": 1, "january": 1, "jan": 1, "februar": 2, "february": 2, "feb": 2,
    "märz": 3, "maerz": 3, "march": 3, "mär": 3, "mrz": 3, "mar": 3, "april": 4, "apr": 4,
    "mai": 5, "may": 5, "juni": 6, "june": 6, "jun": 6, "juli": 7, "july": 7, "jul": 7,
    "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "oktober": 10, "october": 10,
    "okt": 10, "oct": 10, "november": 11, "nov": 11, "dezember": 12, "december": 12, "dez": 12, "dec": 12,
}  # fmt: skip
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_PATTERNS = (
    (re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)"), ("y", "m", "d")),
    (re.compile(r"(?<![\d.])(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})(?![\d])"), ("d", "m", "y")),
    (re.compile(rf"(?<!\d)(\d{{1,2}})\.?\s+({_MONTH})\.?\s+(\d{{4}})(?!\d)", re.IGNORECASE), ("d", "M", "y")),
    (re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)", re.IGNORECASE), ("M", "d", "y")),
)  # fmt: skip
NUMBER = r"\d{1,3}(?:[.,\u202f' ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_POWER = {
    "w": 1e-3,
    "watt": 1e-3,
    "kw": 1.0,
    "kilowatt": 1.0,
    "mw": 1e3,
    "megawatt": 1e3,
    "gw": 1e6,
    "gigawatt": 1e6,
}
_ENERGY = {"wh": 1e-3, "kwh": 1.0, "mwh": 1e3, "gwh": 1e6}
_UNIT_WORD = r"(?P<unit>gigawatt|megawatt|kilowatt|watt|gwh|mwh|kwh|wh|gw|mw|kw|w)(?:p|peak|el)?\b"
_QUANTITY = re.compile(rf"(?P<number>{NUMBER})\s*{_UNIT_WORD}", re.IGNORECASE)


@dataclass
class Found:
    """A value found in text, with its span (for distance to cue words)."""

    value: Any
    start: int
    end: int


def parse_number(text: str) -> float | None:
    """'2.500,5' and '2,500.5' → 2500.5; '2,5' → 2.5; '1.200' → 1200 (German thousands)."""
    text = text.strip().replace("\u202f", "").replace("'", "").replace(" ", "")
    if not re.fullmatch(r"[\d.,]+", text) or not re.search(r"\d", text):
        return None
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
    elif "," in text:
        decimal = None if re.fullmatch(r"\d{1,3}(,\d{3}){2,}", text) else ","
    elif "." in text:
        decimal = None if re.fullmatch(r"\d{1,3}(\.\d{3})+", text) else "."
    else:
        decimal = None
    thousands = {",": ".", ".": ",", None: ".,"}[decimal]
    for sep in thousands:
        text = text.replace(sep, "")
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


def _factors(unit: str) -> dict[str, float] | None:
    unit = unit.casefold()
    return _POWER if unit in _POWER else _ENERGY if unit in _ENERGY else None


def convert(value: float, unit: str, target: str) -> float | None:
    """`value` in `unit` expressed in `target` (same family: power or energy), else None."""
    family = _factors(target)
    if family is None or unit.casefold() not in family:
        return None
    return round(value * family[unit.casefold()] / family[target.casefold()], 6)


def find_quantities(text: str, target: str) -> list[Found]:
    """Every '<number> <unit>' in text, converted to `target` (units of another family are skipped)."""
    found = []
    for match in _QUANTITY.finditer(text):
        number = parse_number(match["number"])
        value = None if number is None else convert(number, match["unit"], target)
        if value is not None:
            found.append(Found(value, match.start(), match.end()))
    return found


def parse_quantity(text: str, target: str, default_unit: str | None = None) -> float | None:
    """A cell or label value like '2,5 MW' (or a bare number in `default_unit`) in `target` units."""
    found = find_quantities(text, target)
    if found:
        return found[0].value
    number = parse_number(text.split()[0]) if text.split() else None
    if number is None:
        return None
    return convert(number, default_unit or target, target)


def find_dates(text: str) -> list[Found]:
    """Every date in text (ISO, 03.03.2021, 3. März 2021, March 3, 2021), in order of position."""
    found: list[Found] = []
    taken: list[tuple[int, int]] = []
    for pattern, order in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            parts = dict(zip(order, match.groups()))
            day = _make_date(parts)
            if day is not None:
                found.append(Found(day, match.start(), match.end()))
                taken.append((match.start(), match.end()))
    return sorted(found, key=lambda f: f.start)


def _make_date(parts: dict[str, str]) -> dt.date | None:
    year = int(parts["y"])
    year += 2000 if year < 50 else 1900 if year < 100 else 0
    month = _MONTHS.get(parts["M"].casefold().rstrip(".")) if "M" in parts else int(parts["m"])
    try:
        return dt.date(year, month or 0, int(parts["d"]))
    except ValueError:
        return None


def parse_date(text: str) -> dt.date | None:
    found = find_dates(text)
    return found[0].value if found else None


def term_pattern(term: str) -> re.Pattern[str]:
    """A word-initial, case-insensitive match ('Wind' finds 'Windpark'; German compounds start with it)."""
    return re.compile(rf"(?<!\w){re.escape(term)}", re.IGNORECASE)
