"""Self-query: metadata filters taken from the question itself ("Was regelt das EnWG zu …" → `law == …`).

Rules find what users say explicitly — a law by abbreviation or name, a MaStR technology, a year or a
span of years, and a wish for sources in one language ("auf Englisch", "German sources"). The question's
own language is reported but never filtered on: a German question may well be answered by English text.
A filter is only made on a field the corpus' chunks carry with the detected value, and the clauses
together must match at least one chunk, otherwise they are dropped (latest-found first), so self-query
can narrow a search but never empty it. With an LLM configured, the LLM proposes the same fields as
JSON (validated by pydantic) and the rules answer whenever that fails.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError, field_validator

from adaptlab.corpus.language import detect_language
from adaptlab.corpus.store import ChunkRecord

DATE_FIELD = "commissioning_date"
"""The date field MaStR units carry (ISO `YYYY-MM-DD`); years in a question filter on it."""

KNOWN_LAWS: dict[str, tuple[str, ...]] = {
    "EnWG": ("Energiewirtschaftsgesetz", "Energy Industry Act"),
    "EEG": ("Erneuerbare-Energien-Gesetz", "Erneuerbare Energien Gesetz", "Renewable Energy Sources Act"),
    "BImSchG": ("Bundes-Immissionsschutzgesetz", "Immissionsschutzgesetz", "Federal Immission Control Act"),
    "KSG": ("Klimaschutzgesetz", "Bundes-Klimaschutzgesetz", "Climate Protection Act", "Climate Change Act"),
    "GEG": ("Gebäudeenergiegesetz", "Building Energy Act"),
    "KWKG": ("Kraft-Wärme-Kopplungsgesetz", "Combined Heat and Power Act"),
    "WindSeeG": ("Windenergie-auf-See-Gesetz", "Offshore Wind Energy Act"),
    "MessbG": ("Messstellenbetriebsgesetz", "Metering Point Operation Act"),
    "StromStG": ("Stromsteuergesetz", "Electricity Tax Act"),
    "EnergieStG": ("Energiesteuergesetz", "Energy Tax Act"),
    "TEHG": ("Treibhausgas-Emissionshandelsgesetz", "Greenhouse Gas Emissions Trading Act"),
    "NABEG": ("Netzausbaubeschleunigungsgesetz",),
    "BBPlG": ("Bundesbedarfsplangesetz", "Federal Requirements Plan Act"),
    "AtG": ("Atomgesetz", "Atomic Energy Act"),
    "WHG": ("Wasserhaushaltsgesetz", "Federal Water Act"),
}
"""Abbreviation → full names, for laws a corpus of German energy law is likely to hold; the corpus' own
`law` values are matched by their abbreviation whether listed here or not."""

TECHNOLOGY_WORDS: dict[str, tuple[str, ...]] = {
    "solar": ("solar", "photovoltai", "pv", "sonnenenergie"),
    "wind": ("wind",),
    "biomass": ("biomass", "biogas"),
    "hydro": ("wasserkraft", "hydropower", "hydroelectric", "laufwasser"),
    "storage": ("speicher", "storage", "batterie", "battery"),
    "nuclear": ("kernkraft", "atomkraft", "kernenergie", "nuclear"),
    "gsgk": ("geotherm", "grubengas"),
    "combustion": ("verbrennung", "combustion"),
}
"""MaStR technology (the `technology` metadata of units) → word starts that name it, German and English."""

_SOURCES_DE = r"(?:quellen|texte[n]?|dokumente[n]?|fassung(?:en)?|belege[n]?)"
_SOURCES_EN = r"(?:sources|texts|documents|versions?|passages)"
LANGUAGE_PHRASES: dict[str, tuple[str, ...]] = {
    "de": (
        rf"deutsch(?:e|en|er)? {_SOURCES_DE}",
        rf"{_SOURCES_DE} (?:auf|in) deutsch",
        rf"german {_SOURCES_EN}",
        rf"{_SOURCES_EN} in german",
    ),
    "en": (
        rf"englisch(?:e|en|er)? {_SOURCES_DE}",
        rf"{_SOURCES_DE} (?:auf|in) englisch",
        rf"english {_SOURCES_EN}",
        rf"{_SOURCES_EN} in english",
    ),
}
"""Explicit requests for sources in one language. A bare "auf Deutsch" is left alone: in "Wie heißt das auf
Deutsch?" it is content, not a wish about sources; the question's own language is no filter either."""

_YEAR = r"((?:19|20)\d{2})"
_YEAR_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(rf"\b(?:zwischen|between|von|from)\s+{_YEAR}\s+(?:und|and|bis|to|-)\s+{_YEAR}\b", re.I),
        "range",
    ),
    (re.compile(rf"\b{_YEAR}\s*[-–]\s*{_YEAR}\b"), "range"),
    (
        re.compile(rf"\b(?:seit|ab|nach|since|after|from)\s+(?:dem\s+jahr\s+|the\s+year\s+)?{_YEAR}\b", re.I),
        "from",
    ),
    (re.compile(rf"\b(?:vor|before)\s+(?:dem\s+jahr\s+|the\s+year\s+)?{_YEAR}\b", re.I), "before"),
    (re.compile(rf"\b(?:bis|until|till|up to)\s+(?:zum\s+jahr\s+|the\s+year\s+)?{_YEAR}\b", re.I), "until"),
    (re.compile(rf"\b{_YEAR}\b"), "year"),
)
_LAW_LEAD = r"(?:(?:im|in|nach|gemäß|gem\.|laut|des|dem|der|das|die|zum|zur|under|of|according\s+to|in\s+the|the)\s+)*"


class Facets:
    """What the corpus can be filtered on: the distinct (lang, law, technology, year) rows of its chunks."""

    def __init__(self, rows: Iterable[tuple[str, str | None, str | None, int | None]]) -> None:
        self.rows = set(rows)
        self.langs = {r[0] for r in self.rows if r[0]}
        self.laws = sorted({r[1] for r in self.rows if r[1]})
        self.technologies = {r[2] for r in self.rows if r[2]}
        self.has_dates = any(r[3] is not None for r in self.rows)

    @classmethod
    def from_records(cls, records: Iterable[ChunkRecord]) -> Facets:
        return cls(_facet_row(r.lang, r.doc_metadata) for r in records)

    @classmethod
    def from_store(cls, conn: sqlite3.Connection) -> Facets:
        """From the corpus store's SQLite connection: one grouped query, no chunk text read."""
        rows = conn.execute(
            "SELECT DISTINCT COALESCE(c.lang, ''), json_extract(d.metadata, '$.law'), "
            "json_extract(d.metadata, '$.technology'), substr(json_extract(d.metadata, '$.commissioning_date'), 1, 4) "
            "FROM chunks c JOIN documents d ON d.doc_id = c.doc_id"
        ).fetchall()
        return cls((lang, _text(law), _text(tech), _year(year)) for lang, law, tech, year in rows)

    def matches_any(self, clauses: Sequence[Clause]) -> bool:
        """True when at least one chunk satisfies every clause."""
        return any(all(c.holds(row) for c in clauses) for row in self.rows)


def _facet_row(lang: str, meta: dict[str, Any]) -> tuple[str, str | None, str | None, int | None]:
    return lang or "", _text(meta.get("law")), _text(meta.get("technology")), _year(meta.get(DATE_FIELD))


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _year(value: Any) -> int | None:
    text = str(value or "")[:4]
    return int(text) if text.isdigit() else None


@dataclass(frozen=True)
class Clause:
    """One filter clause self-query may produce: lang/law/technology equality or a year span."""

    field: str
    value: str | tuple[int | None, int | None]

    def holds(self, row: tuple[str, str | None, str | None, int | None]) -> bool:
        lang, law, tech, year = row
        if self.field == "lang":
            return lang == self.value
        if self.field == "law":
            return law == self.value
        if self.field == "technology":
            return tech == self.value
        low, high = self.value  # type: ignore[misc]
        return year is not None and (low is None or year >= low) and (high is None or year <= high)

    def expression(self) -> str:
        """The clause in the filter syntax Milvus and BM25 share."""
        if self.field != DATE_FIELD:
            return f'{self.field} == "{self.value}"'
        low, high = self.value  # type: ignore[misc]
        parts = ([f'{DATE_FIELD} >= "{low}-01-01"'] if low is not None else []) + (
            [f'{DATE_FIELD} <= "{high}-12-31"'] if high is not None else []
        )
        return " and ".join(parts)


@dataclass
class SelfQuery:
    """The question without its filter phrases, the filter expression (None: no filter) and what was found."""

    query: str
    filter: str | None
    clauses: list[Clause] = field(default_factory=list)
    detected: dict[str, Any] = field(default_factory=dict)
    method: str = "rules"

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "filter": self.filter, "method": self.method, "detected": self.detected}


def self_query(question: str, facets: Facets, user_filter: str | None = None) -> SelfQuery:
    """Filters read from `question` by rules, kept only where the corpus has matching chunks.

    Fields already named in `user_filter` are left to it; the result's filter is `user_filter` and the
    detected clauses joined by `and`.
    """
    detected: dict[str, Any] = {"question_lang": detect_language(question)[0]}
    text = question
    found: list[Clause] = []
    text, law = _find_law(text, facets, detected)
    if law:
        found.append(Clause("law", law))
    text, lang = _find_language_wish(text, detected)
    if lang:
        found.append(Clause("lang", lang))
    tech = _find_technology(text, detected)
    if tech:
        found.append(Clause("technology", tech))
    span = _find_years(text, detected)
    if span:
        found.append(Clause(DATE_FIELD, span))
    clauses = _applicable(found, facets, user_filter, detected)
    return SelfQuery(_tidy(text) or question, _join(user_filter, clauses), clauses, detected)


def _find_law(text: str, facets: Facets, detected: dict[str, Any]) -> tuple[str, str | None]:
    """The corpus' `law` value the question names (abbreviation, abbreviation + year, or a full name)."""
    by_abbreviation: dict[str, list[str]] = {}
    for value in facets.laws:
        by_abbreviation.setdefault(value.split()[0].casefold(), []).append(value)
    names = {abbr.casefold(): abbr for abbr in KNOWN_LAWS} | {
        a: facets_abbr(a, by_abbreviation) for a in by_abbreviation
    }
    full_names = {name.casefold(): abbr for abbr, long in KNOWN_LAWS.items() for name in long}
    pattern = "|".join(re.escape(n) for n in sorted({*names, *full_names}, key=len, reverse=True))
    if not pattern:
        return text, None
    match = re.search(rf"{_LAW_LEAD}(?<![\w-])({pattern})(?:\s+{_YEAR})?(?!\w)", text, re.I)
    if not match:
        return text, None
    said = match.group(1).casefold()
    abbr = full_names.get(said) or names[said]
    detected["law"] = match.group(0).strip()
    candidates = by_abbreviation.get(abbr.casefold(), [])
    year = match.group(2)
    if year:  # "EEG 2017" asks for that version: another one is no answer
        candidates = [c for c in candidates if c.endswith(year)] or [
            c for c in candidates if c.split()[-1] == year
        ]
    if len(candidates) != 1:
        detected["law_skipped"] = (
            "not in the corpus" if not candidates else f"ambiguous: {', '.join(candidates)}"
        )
        return text, None
    if text[match.end() :].startswith("-"):  # "KWKG-Umlage": the name is part of a compound, keep it
        return text, candidates[0]
    return text[: match.start()] + " " + text[match.end() :], candidates[0]


def facets_abbr(key: str, by_abbreviation: dict[str, list[str]]) -> str:
    """The abbreviation as the corpus spells it ('enwg' → 'EnWG' from 'EnWG 2005')."""
    return by_abbreviation[key][0].split()[0]


def _find_language_wish(text: str, detected: dict[str, Any]) -> tuple[str, str | None]:
    for lang, phrases in LANGUAGE_PHRASES.items():
        match = re.search(rf"\b(?:nur\s+|only\s+)?(?:{'|'.join(phrases)})(?:\s+only)?\b", text, re.I)
        if match:
            detected["lang"] = match.group(0)
            return text[: match.start()] + " " + text[match.end() :], lang
    return text, None


def _find_technology(text: str, detected: dict[str, Any]) -> str | None:
    words = re.findall(r"[^\W\d_]+", text.casefold())
    hits = {
        tech for tech, starts in TECHNOLOGY_WORDS.items() if any(_names(w, s) for w in words for s in starts)
    }
    if len(hits) == 1:
        detected["technology"] = next(iter(hits))
        return next(iter(hits))
    if hits:
        detected["technology_skipped"] = f"several: {', '.join(sorted(hits))}"
    return None


def _names(word: str, start: str) -> bool:
    """A word names a technology when it starts with the stem, or holds a long one ('Batteriespeicher')."""
    if len(start) <= 2:
        return word == start
    return word.startswith(start) or (len(start) >= 6 and start in word)


def _find_years(text: str, detected: dict[str, Any]) -> tuple[int | None, int | None] | None:
    for pattern, kind in _YEAR_RULES:
        match = pattern.search(text)
        if not match:
            continue
        first = int(match.group(1))
        span = {
            "range": (first, int(match.group(2)) if match.lastindex and match.lastindex > 1 else first),
            "from": (first, None),
            "before": (None, first - 1),
            "until": (None, first),
            "year": (first, first),
        }[kind]
        detected["years"] = match.group(0).strip()
        return span
    return None


def _applicable(
    found: list[Clause], facets: Facets, user_filter: str | None, detected: dict[str, Any]
) -> list[Clause]:
    """Clauses on fields the corpus carries and the user did not filter on; dropped until they match."""
    named = set(re.findall(r"[A-Za-z_]\w*", user_filter or ""))
    carried = {
        "lang": bool(facets.langs),
        "law": bool(facets.laws),
        "technology": bool(facets.technologies),
        DATE_FIELD: facets.has_dates,
    }
    dropped: list[str] = []
    clauses = []
    for clause in found:
        if clause.field in named or not carried[clause.field]:
            dropped.append(clause.field)
        elif not facets.matches_any([clause]):
            dropped.append(clause.field)
        else:
            clauses.append(clause)
    while clauses and not facets.matches_any(clauses):
        dropped.append(clauses.pop().field)
    if dropped:
        detected["dropped"] = dropped
    return clauses


def _join(user_filter: str | None, clauses: Sequence[Clause]) -> str | None:
    parts = [f"({user_filter})" if " or " in user_filter.casefold() else user_filter] if user_filter else []
    parts += [c.expression() for c in clauses]
    return " and ".join(parts) or None


def _tidy(text: str) -> str:
    """Whitespace collapsed and stray punctuation left by removed phrases cut."""
    text = re.sub(r"\s+([?!.,;:])", r"\1", re.sub(r"\s+", " ", text)).strip()
    text = re.sub(r"[,;:]+([?!.])", r"\1", text)
    return re.sub(r"^[,;:]\s*|\s*[,;:]$", "", text)


# --- the LLM variant ------------------------------------------------------------------------------


class Completer(Protocol):
    """An LLM that answers chat messages with one text (OpenAI-compatible endpoints, local GGUF models)."""

    name: str

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 200) -> str: ...


class QueryFilters(BaseModel):
    """The JSON an LLM must return; unknown or wrongly typed fields fail validation, and the rules answer."""

    query: str
    lang: str | None = None
    law: str | None = None
    technology: str | None = None
    year_from: int | None = None
    year_to: int | None = None

    @field_validator("lang")
    @classmethod
    def _lang(cls, value: str | None) -> str | None:
        if value not in (None, "de", "en"):
            raise ValueError("lang must be de, en or null")
        return value


SELF_QUERY_PROMPT = (
    "Extract search filters from the user's question. Reply with JSON only, with the keys: "
    '"query" (the question without the filter words), "lang" ("de" or "en" only if the user asks for sources '
    'in that language, else null), "law" (one of: {laws}; else null), "technology" (one of: {techs}; else null), '
    '"year_from" and "year_to" (integers or null).'
)


def llm_self_query(
    question: str, facets: Facets, llm: Completer, user_filter: str | None = None
) -> SelfQuery:
    """Filters proposed by `llm` as JSON, checked like the rules' ones; on any failure, the rules' result."""
    prompt = SELF_QUERY_PROMPT.format(
        laws=", ".join(facets.laws) or "none", techs=", ".join(sorted(facets.technologies)) or "none"
    )
    try:
        reply = llm.complete(
            [{"role": "system", "content": prompt}, {"role": "user", "content": question}], 200
        )
        parsed = QueryFilters.model_validate(json.loads(_json_object(reply)))
    except (ValidationError, ValueError, OSError) as exc:
        result = self_query(question, facets, user_filter)
        result.detected["llm_error"] = str(exc).splitlines()[0][:200]
        return result
    detected: dict[str, Any] = {"question_lang": detect_language(question)[0], "llm": parsed.model_dump()}
    found = [
        Clause(name, value)
        for name, value in (("law", parsed.law), ("lang", parsed.lang), ("technology", parsed.technology))
        if value
    ]
    if parsed.year_from is not None or parsed.year_to is not None:
        found.append(Clause(DATE_FIELD, (parsed.year_from, parsed.year_to)))
    clauses = _applicable(found, facets, user_filter, detected)
    return SelfQuery(
        parsed.query.strip() or question, _join(user_filter, clauses), clauses, detected, f"llm:{llm.name}"
    )


def _json_object(reply: str) -> str:
    """The first `{…}` block of a reply (models like to wrap JSON in prose or code fences)."""
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("the LLM reply holds no JSON object")
    return reply[start : end + 1]
