"""Open Energy Ontology as retrieval sets: a class's term → its English definition.

`oeo-de-en`: a German term (IAO_0000118 @de) must find the class's English definition, the
cross-lingual task. `oeo-en`: the English label must find it; models are already near 1.0 there,
so it only checks that adaptation does not regress English.
The split is by class, so a model adapted on the train classes is tested on classes it never saw:
a class is test when a hash of its IRI falls in the last third, train otherwise. The corpus of a split
holds the definitions of that split's classes only; each class is one query (its first German term,
or its label), so every query has exactly one relevant document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adaptlab.corpus.loaders.ontology import parse_ontology_classes
from adaptlab.corpus.types import content_hash
from adaptlab.datasets import SOURCES
from adaptlab.errors import AdaptlabError
from adaptlab.eval.beir import BeirDataset

SPLITS = ("train", "test", "all")
DIRECTIONS = ("de-en", "en")


def class_split(iri: str) -> str:
    """'test' for about a third of the classes (hash of the IRI), else 'train'; stable across releases."""
    return "test" if int(content_hash("oeo-split", iri), 16) % 3 == 2 else "train"


def oeo_classes(oeo_dir: Path) -> list[dict[str, Any]]:
    """Every defined class of every `.omn` file in `oeo_dir`, first occurrence of an IRI wins."""
    files = sorted(Path(oeo_dir).glob("*.omn"))
    if not files:
        raise AdaptlabError(f"{oeo_dir}: no .omn ontology files. Source: {SOURCES['oeo']}")
    seen: dict[str, dict[str, Any]] = {}
    for path in files:
        for entry in parse_ontology_classes(path):
            if entry["definition"] and entry["iri"] not in seen:
                seen[entry["iri"]] = entry
    return list(seen.values())


def class_query(entry: dict[str, Any], direction: str) -> str:
    """The query a class is asked by: its first German term, or its English label ('' if it has none)."""
    if direction == "de-en":
        return entry["terms_de"][0] if entry["terms_de"] else ""
    return entry["label_en"]


def oeo_to_beir(oeo_dir: Path, direction: str = "de-en", split: str = "test") -> BeirDataset:
    """Term → definition over the classes of `split` ('all' for the whole ontology)."""
    if direction not in DIRECTIONS:
        raise AdaptlabError(f"unknown OEO direction {direction!r}; choose one of {', '.join(DIRECTIONS)}")
    if split not in SPLITS:
        raise AdaptlabError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    corpus: dict[str, dict[str, str]] = {}
    queries: dict[str, str] = {}
    for entry in oeo_classes(oeo_dir):
        if split != "all" and class_split(entry["iri"]) != split:
            continue
        doc_id = entry["iri"]
        corpus[doc_id] = {"title": "", "text": entry["definition"], "label_en": entry["label_en"]}
        query = class_query(entry, direction)
        if query:
            queries[doc_id] = query
    qrels = {qid: {qid: 1} for qid in queries}
    suffix = "" if split == "test" else f"-{split}"
    return BeirDataset(name=f"oeo-{direction}{suffix}", corpus=corpus, queries=queries, qrels=qrels)
