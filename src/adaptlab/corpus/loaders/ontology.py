"""OWL ontologies in Manchester syntax (`.omn`): one document per defined class.

Ontologies such as the Open Energy Ontology are curated glossaries: a class's English label and
definition make a precise retrieval target, and its German alternative terms give DE–EN term
pairs. `parse_ontology_classes` exposes every class for building term → definition tasks.
Only the annotations are read; logical axioms are irrelevant for text retrieval.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import Any

from adaptlab.corpus.loaders.base import LoaderOptions, LoadError
from adaptlab.corpus.loaders.text import read_text
from adaptlab.corpus.types import Document, Section

DEFINITION = "http://purl.obolibrary.org/obo/IAO_0000115"
ALTERNATIVE_TERM = "http://purl.obolibrary.org/obo/IAO_0000118"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_BUILTIN_PREFIXES = {
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "obo": "http://purl.obolibrary.org/obo/",
}

_STRING = r'"(?:[^"\\]|\\.)*"'
# A frame starts at column 0 ("Class: OEO_00000048"); quoted strings are matched first so that a
# line inside a multi-line string is never mistaken for a frame.
_FRAME_OR_STRING = re.compile(rf"{_STRING}|^(?P<kind>[A-Z][A-Za-z]*):[ \t]*(?P<name>\S*)", re.MULTILINE)
_PREFIX = re.compile(r"^Prefix:\s*(\S*):\s*<([^>]*)>", re.MULTILINE)
_ANNOTATION = re.compile(
    rf"(?P<prop><[^>\s]+>|[\w.-]*:[\w.-]+|[\w.-]+)\s+(?P<value>{_STRING})(?:@(?P<lang>[\w-]+))?"
)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def parse_ontology_classes(path: Path) -> list[dict[str, Any]]:
    """Every class, in file order: iri, label_en, definition ('' if none), terms_de, terms_en (lists)."""
    text = read_text(path)
    prefixes = {**_BUILTIN_PREFIXES, **dict(_PREFIX.findall(text))}
    classes: dict[str, dict[str, Any]] = {}
    for name, body in _class_frames(text):
        iri = expand_iri(name, prefixes)
        entry = classes.setdefault(
            iri, {"iri": iri, "label_en": "", "definition": "", "terms_de": [], "terms_en": []}
        )
        _add_annotations(entry, body, prefixes)
    return list(classes.values())


def _class_frames(text: str) -> list[tuple[str, str]]:
    """(name, body) of each `Class:` frame; a body runs to the next frame of any kind."""
    frames: list[tuple[str, int]] = []
    starts: list[int] = []
    for match in _FRAME_OR_STRING.finditer(text):
        if match.group("kind"):
            starts.append(match.start())
            if match.group("kind") == "Class":
                frames.append((match.group("name"), match.end()))
    ends = (bisect.bisect_right(starts, begin) for _, begin in frames)
    return [
        (name, text[begin : starts[i] if i < len(starts) else len(text)])
        for (name, begin), i in zip(frames, ends)
    ]


def expand_iri(name: str, prefixes: dict[str, str]) -> str:
    """'<http://...>' → 'http://...'; 'rdfs:label' and bare 'OEO_1' (default prefix) → full IRIs."""
    if name.startswith("<") and name.endswith(">"):
        return name[1:-1]
    prefix, sep, local = name.rpartition(":") if ":" in name else ("", ":", name)
    base = prefixes.get(prefix)
    return base + local if sep and base is not None else name


def _add_annotations(entry: dict[str, Any], body: str, prefixes: dict[str, str]) -> None:
    for match in _ANNOTATION.finditer(body):
        prop = expand_iri(match.group("prop"), prefixes)
        value = " ".join(_ESCAPE.sub(r"\1", match.group("value")[1:-1]).split())
        lang = (match.group("lang") or "").lower()
        if prop == LABEL and lang in ("en", "") and not entry["label_en"]:
            entry["label_en"] = value
        elif prop == DEFINITION and lang in ("en", "") and not entry["definition"]:
            entry["definition"] = value
        elif prop == ALTERNATIVE_TERM:
            terms = entry["terms_de"] if lang == "de" else entry["terms_en"] if lang in ("en", "") else None
            if terms is not None and value not in terms:
                terms.append(value)


def class_document(source: str, ontology: str, entry: dict[str, Any]) -> Document:
    """'<label>: <definition>' keyed by the class IRI, with its terms in both languages as metadata."""
    label = entry["label_en"] or entry["iri"].rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    metadata = {
        "format": "omn",
        "iri": entry["iri"],
        "label_en": entry["label_en"],
        "terms_de": "; ".join(entry["terms_de"]),
        "terms_en": "; ".join(entry["terms_en"]),
        "ontology": ontology,
    }
    section = Section(text=f"{label}: {entry['definition']}")
    return Document(source=source, key=entry["iri"], title=label, sections=[section], metadata=metadata)


def load_ontology(path: Path, options: LoaderOptions) -> list[Document]:
    """Defined classes only: a class without a definition has nothing to retrieve."""
    classes = parse_ontology_classes(path)
    if not classes:
        raise LoadError("no 'Class:' frames found; is this Manchester OWL syntax?")
    return [class_document(str(path), path.stem, c) for c in classes if c["definition"]]
