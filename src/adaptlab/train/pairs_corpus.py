"""Self-supervised training pairs mined from the ingested corpus: no labels needed.

Rules, each recorded on the pair it makes:
- `heading`: a section's own heading (without its § number) → the section text;
- `title`: a document title → the text of a chunk without a heading;
- `inverse-cloze`: a passage's leading sentence → the rest of the passage (ICT, Lee et al. 2019);
- `term-definition`: an ontology class's terms (German and English) → its definition;
- `mastr-field`: a MaStR unit's field label with the unit's name ("Gemeinde Windpark Nord") → the unit's record,
  the text that holds the value (two fields per unit, chosen by hash, so the choice is stable across runs).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from adaptlab.corpus.loaders.markdown import HEADING_SEPARATOR
from adaptlab.corpus.sentences import split_sentences
from adaptlab.corpus.store import ChunkRecord, CorpusStore
from adaptlab.corpus.types import content_hash
from adaptlab.eval.laws import heading_query
from adaptlab.train.pairs import Pair, dedupe

RULES = ("heading", "title", "inverse-cloze", "term-definition", "mastr-field")
MIN_WORDS = 8
"""A positive (or the rest of a passage) shorter than this teaches nothing about the domain."""
MASTR_FIELDS_PER_UNIT = 2
_MASTR_SKIPPED = ("MaStR-Nummer", "Bezeichnung", "Datum der letzten Aktualisierung")
"""Field labels that make no question: identifiers, the name itself (it is in every query), bookkeeping dates."""


def mine_corpus_pairs(store: CorpusStore, rules: Iterable[str] = RULES) -> list[Pair]:
    """Every pair the chosen rules find in the store, deduplicated, in store order."""
    chosen = set(rules)
    pairs: list[Pair] = []
    for record in store.iter_chunks():
        pairs.extend(p for p in chunk_pairs(record) if p.rule in chosen)
    return dedupe(pairs)


def chunk_pairs(record: ChunkRecord) -> Iterator[Pair]:
    """The pairs one chunk yields under every rule."""
    meta = record.doc_metadata
    if meta.get("format") == "omn":
        yield from _term_pairs(record)
        return
    if meta.get("format") == "mastr":
        yield from _mastr_pairs(record)
        return
    text = record.text.strip()
    if len(text.split()) < MIN_WORDS:
        return
    heading = heading_query(record.heading.split(HEADING_SEPARATOR)[-1]) if record.heading else ""
    if heading:
        yield Pair(heading, text, record.doc_id, "heading", record.chunk_id)
    elif record.title.strip() and record.ordinal == 0:
        yield Pair(record.title.strip(), text, record.doc_id, "title", record.chunk_id)
    cloze = inverse_cloze(text)
    if cloze:
        yield Pair(cloze[0], cloze[1], record.doc_id, "inverse-cloze", record.chunk_id)


def inverse_cloze(text: str) -> tuple[str, str] | None:
    """(leading sentence, rest) when both carry content, else None."""
    sentences = split_sentences(text)
    if len(sentences) < 2:
        return None
    lead, rest = sentences[0].strip(), " ".join(s.strip() for s in sentences[1:])
    if len(lead.split()) < 4 or len(rest.split()) < MIN_WORDS:
        return None
    return lead, rest


def _term_pairs(record: ChunkRecord) -> Iterator[Pair]:
    """Ontology chunks read '<label>: <definition>'; every term of the class asks for the definition."""
    meta = record.doc_metadata
    label = str(meta.get("label_en") or "")
    definition = record.text.removeprefix(f"{label}:").strip() if label else record.text.strip()
    if not definition:
        return
    terms = [label] + [t.strip() for key in ("terms_de", "terms_en") for t in str(meta.get(key) or "").split(";")]
    for term in dict.fromkeys(t for t in terms if t):
        yield Pair(term, definition, record.doc_id, "term-definition", record.chunk_id)


def _mastr_pairs(record: ChunkRecord) -> Iterator[Pair]:
    """A unit record reads "<label>: <value>" per line; "<label> <unit name>" asks for the record."""
    name = str(record.doc_metadata.get("name") or record.doc_metadata.get("mastr_id") or "").strip()
    if not name:
        return
    labels = []
    for line in record.text.splitlines():
        label, sep, value = line.rpartition(": ")
        if sep and value.strip() and label.strip() and not any(s in label for s in _MASTR_SKIPPED):
            labels.append(label.split(": ")[-1].strip())
    chosen = sorted(dict.fromkeys(labels), key=lambda lab: content_hash(record.chunk_id, lab))
    for label in chosen[:MASTR_FIELDS_PER_UNIT]:
        yield Pair(f"{label} {name}", record.text.strip(), record.doc_id, "mastr-field", record.chunk_id)
