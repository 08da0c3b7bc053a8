"""Marktstammdatenregister (MaStR) exports: each power unit becomes a German text document.

A unit is a flat record of coded fields (`Nettonennleistung`, `Bundesland`, ...). Embedding
models understand sentences, not column names, so every field is written as
"<German field description>: <value>", with the descriptions taken from the open-MaStR field
lists (`bnetza_mastr_<tech>_raw.csv`). Filterable facts (capacity, state, commissioning date)
also go into metadata. The bulk export is XML of several GB, so it is read as a stream.
The field lists themselves load as documents too (one per field), for schema questions.
"""

from __future__ import annotations

import csv
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from adaptlab import datasets
from adaptlab.corpus.loaders.base import LoaderOptions, LoadError
from adaptlab.corpus.types import Document, Section

logger = logging.getLogger(__name__)

ID_FIELD = "EinheitMastrNummer"
SCHEMA_HEADER = ["Column", "Description", "Type", "Example"]
SCHEMA_GLOB = "bnetza_mastr_*_raw.csv"
_SCHEMA_NAME = re.compile(r"bnetza_mastr_(\w+?)_raw")

# (needle in an element or file name, unit type or energy carrier; technology; German unit noun), first match wins
_TECHNOLOGIES = (
    ("solar", "solar", "Solareinheit"),
    ("wind", "wind", "Windeinheit"),
    ("biomass", "biomass", "Biomasseeinheit"),
    ("wasser", "hydro", "Wasserkrafteinheit"),
    ("hydro", "hydro", "Wasserkrafteinheit"),
    ("speicher", "storage", "Stromspeichereinheit"),
    ("storage", "storage", "Stromspeichereinheit"),
    ("verbrennung", "combustion", "Verbrennungseinheit"),
    ("combustion", "combustion", "Verbrennungseinheit"),
    ("kern", "nuclear", "Kernkrafteinheit"),
    ("nuclear", "nuclear", "Kernkrafteinheit"),
    ("geotherm", "gsgk", "Geothermie-, Grubengas- oder Druckentspannungseinheit"),
    ("grubengas", "gsgk", "Geothermie-, Grubengas- oder Druckentspannungseinheit"),
    ("gsgk", "gsgk", "Geothermie-, Grubengas- oder Druckentspannungseinheit"),
)
_UNIT_NOUN = {tech: noun for _, tech, noun in _TECHNOLOGIES}
_NAME_FIELDS = ("Name", "NameStromerzeugungseinheit", "NameWindpark", "NameKraftwerk")
_FLOAT_METADATA = {"net_capacity_kw": "Nettonennleistung", "gross_capacity_kw": "Bruttoleistung"}
_TEXT_METADATA = {
    "state": "Bundesland",
    "district": "Landkreis",
    "municipality": "Gemeinde",
    "postcode": "Postleitzahl",
    "status": "EinheitBetriebsstatus",
    "energy_carrier": "Energietraeger",
}
_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FIELD_SUFFIX = re.compile(r"_[a-z]+$")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-zäöüß])(?=[A-ZÄÖÜ])")


def technology_of(name: str) -> str:
    """'EinheitSolar', 'Solareinheit', 'einheiten_wind', 'Biomasse' → solar, wind, biomass; else ''."""
    lowered = name.casefold()
    return next((tech for needle, tech, _ in _TECHNOLOGIES if needle in lowered), "")


def humanise(field: str) -> str:
    """A readable label for a field without description: 'InstallierteLeistung_eeg' → 'Installierte Leistung'."""
    return _CAMEL_BOUNDARY.sub(" ", _FIELD_SUFFIX.sub("", field))


# --- field descriptions --------------------------------------------------------------------------


def schema_dir(options: LoaderOptions) -> Path | None:
    """options.mastr_schema_dir, else the shared data's `mastr/` folder, else None (labels from names)."""
    if options.mastr_schema_dir is not None:
        return options.mastr_schema_dir
    root = datasets.data_root()
    return root / "mastr" if root is not None and (root / "mastr").is_dir() else None


@lru_cache(maxsize=32)
def field_labels(folder: Path | None, tech: str) -> dict[str, str]:
    """Field name → German description; the unit's own technology wins, then any other's."""
    if folder is None:
        return {}
    files = sorted(folder.glob(SCHEMA_GLOB), key=lambda f: _schema_tech(f) != tech)
    rows = [row for f in files for row in _read_schema_file(f)]
    labels: dict[str, str] = {}
    for row in rows:
        labels.setdefault(row["Column"], _label(row["Description"]))
    for row in rows:  # 'Bruttoleistung_extended' also describes a bare 'Bruttoleistung'
        labels.setdefault(_FIELD_SUFFIX.sub("", row["Column"]), _label(row["Description"]))
    return labels


def _schema_tech(path: Path) -> str:
    match = _SCHEMA_NAME.search(path.name)
    return match.group(1) if match else path.stem


def _read_schema_file(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = csv.DictReader(fh)
            return [row for row in rows if row.get("Column") and (row.get("Description") or "").strip()]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        logger.warning("MaStR field descriptions %s unreadable (%s); using field names", path, err)
        return []


def _label(description: str) -> str:
    return " ".join(description.split()).rstrip(".")


# --- units ---------------------------------------------------------------------------------------


def unit_document(source: str, fields: dict[str, str], tech: str, labels: dict[str, str]) -> Document:
    """One unit as German "label: value" lines, plus its filterable facts as metadata."""
    mastr_id = fields[ID_FIELD]
    name = next((fields[f] for f in _NAME_FIELDS if fields.get(f)), "")
    noun = _UNIT_NOUN.get(tech, "MaStR-Einheit")
    title = f"{noun} {name} ({mastr_id})" if name else f"{noun} {mastr_id}"
    lines = [f"{labels.get(field) or humanise(field)}: {value}" for field, value in fields.items()]
    metadata = unit_metadata(fields, tech, name)
    return Document(
        source=source, key=mastr_id, title=title, sections=[Section("\n".join(lines))], metadata=metadata
    )


def unit_metadata(fields: dict[str, str], tech: str, name: str) -> dict[str, Any]:
    """The facts users filter on, in English keys with typed values; absent facts are left out."""
    meta: dict[str, Any] = {"format": "mastr", "technology": tech, "mastr_id": fields[ID_FIELD]}
    if name:
        meta["name"] = name
    for key, field in _FLOAT_METADATA.items():
        number = parse_number(fields.get(field, ""))
        if number is not None:
            meta[key] = number
    for key, field in _TEXT_METADATA.items():
        if fields.get(field):
            meta[key] = fields[field]
    if fields.get("Inbetriebnahmedatum"):
        meta["commissioning_date"] = iso_date(fields["Inbetriebnahmedatum"])
    return meta


def parse_number(value: str) -> float | None:
    """'25000', '148.987', '1.234,5' (German) → float; anything else → None."""
    text = value.strip().replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def iso_date(value: str) -> str:
    """'2019-05-23T00:00:00' or '23.05.2019' → '2019-05-23'; unknown formats pass through."""
    text = value.strip()
    if _ISO_DATE.match(text):
        return text[:10]
    german = _GERMAN_DATE.fullmatch(text)
    if german:
        day, month, year = german.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return text


def _non_empty(pairs: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    return {field: value.strip() for field, value in pairs if field and value and value.strip()}


def _report_skipped(path: Path, positions: list[int]) -> None:
    """Units without a MaStR number are skipped; the user hears once how many and where."""
    if positions:
        first = ", ".join(map(str, positions[:5]))
        logger.warning("%s: skipped %d unit(s) without %s (unit #%s)", path, len(positions), ID_FIELD, first)


def _build_documents(
    path: Path, units: Iterable[tuple[str, dict[str, str]]], options: LoaderOptions
) -> list[Document]:
    folder = schema_dir(options)
    skipped: list[int] = []
    documents = []
    for position, (tech, fields) in enumerate(units, 1):
        if fields.get(ID_FIELD):
            documents.append(unit_document(str(path), fields, tech, field_labels(folder, tech)))
        else:
            skipped.append(position)
    _report_skipped(path, skipped)
    if not documents:
        raise LoadError(f"no MaStR units with an {ID_FIELD} found")
    return documents


# --- XML bulk export -----------------------------------------------------------------------------


def load_mastr_xml(path: Path, options: LoaderOptions) -> list[Document]:
    """The bulk export (`EinheitenSolar.xml`, ...): streamed, any declared encoding (real files are UTF-16)."""
    try:
        return _build_documents(path, _xml_units(path), options)
    except ET.ParseError as err:
        raise LoadError(f"invalid XML ({err}); the file may be truncated") from None


def _xml_units(path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """(technology, fields) per child of the root, freeing each element once read."""
    root: ET.Element | None = None
    depth = units = 0
    for event, element in ET.iterparse(path, events=("start", "end")):
        if event == "start":
            root = element if root is None else root
            depth += 1
            continue
        depth -= 1
        if depth != 1 or root is None:
            continue
        units += 1
        fields = _non_empty((_local(child.tag), _element_text(child)) for child in element)
        _check_is_mastr(_local(root.tag), fields, first=units == 1)
        yield technology_of(_local(element.tag)) or technology_of(_local(root.tag)), fields
        root.clear()


def _check_is_mastr(root_name: str, fields: dict[str, str], first: bool) -> None:
    """MaStR XML has an `Einheiten...` root, or else its first unit carries a MaStR number."""
    if first and ID_FIELD not in fields and not root_name.startswith("Einheiten"):
        raise LoadError(f"XML is not a MaStR unit export (root <{root_name}>); only MaStR XML is supported")


def _element_text(element: ET.Element) -> str:
    if not len(element):  # the usual flat field: skip the itertext machinery
        return element.text or ""
    return " ".join(part.strip() for part in element.itertext() if part.strip())


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# --- CSV exports ---------------------------------------------------------------------------------


def is_unit_header(header: list[str]) -> bool:
    """A MaStR unit table (bulk export converted to CSV, open-MaStR tables)."""
    return ID_FIELD in (name.strip() for name in header)


def is_schema_header(header: list[str]) -> bool:
    """An open-MaStR field description list (`bnetza_mastr_<tech>_raw.csv`)."""
    return [name.strip() for name in header] == SCHEMA_HEADER


def load_unit_rows(
    path: Path, header: list[str], rows: Iterable[list[str]], options: LoaderOptions
) -> list[Document]:
    """Unit rows of a CSV export; the technology comes from Einheittyp, the file name or the energy carrier."""
    names = [name.strip() for name in header]
    file_tech = technology_of(path.stem)

    def units() -> Iterator[tuple[str, dict[str, str]]]:
        for row in rows:
            fields = _non_empty(zip(names, row))
            tech = technology_of(fields.get("Einheittyp", "")) or file_tech
            yield tech or technology_of(fields.get("Energietraeger", "")), fields

    return _build_documents(path, units(), options)


def load_schema_rows(path: Path, rows: Iterable[list[str]]) -> list[Document]:
    """One document per described field: 'Feld Bruttoleistung (Technologie solar): ...'."""
    tech = _schema_tech(path)
    documents = []
    for row in rows:
        column, description, ftype, example = (list(row) + [""] * 4)[:4]
        if column.strip():
            documents.append(_field_document(str(path), tech, column.strip(), description, ftype, example))
    if not documents:
        raise LoadError("MaStR field list has no fields")
    return documents


def _field_document(
    source: str, tech: str, column: str, description: str, ftype: str, example: str
) -> Document:
    parts = [
        f"Feld {column} (Technologie {tech})" + (f": {_label(description)}" if description.strip() else "")
    ]
    if ftype.strip():
        parts.append(f"Datentyp: {ftype.strip()}")
    if example.strip():
        parts.append(f"Beispiel: {' '.join(example.split())}")
    text = ". ".join(parts) + "."
    metadata = {"format": "mastr_schema", "technology": tech, "field": column, "type": ftype.strip()}
    return Document(
        source=source,
        key=column,
        title=f"MaStR {tech}: {column}",
        sections=[Section(text)],
        metadata=metadata,
    )
