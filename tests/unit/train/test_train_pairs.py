"""Pair mining rules, provenance, and the split by document on a tiny hand-built store."""

from pathlib import Path

import pytest

from adaptlab.corpus.store import CorpusStore
from adaptlab.corpus.types import Chunk, Document, Section
from adaptlab.train.pairs import Pair, document_split, split_by_document, write_pairs
from adaptlab.train.pairs_corpus import inverse_cloze, mine_corpus_pairs
from adaptlab.train.pairs_labelled import read_jsonl_pairs, read_labelled_pairs
from adaptlab.errors import AdaptlabError

SECTION = ("Betreiber von Energieversorgungsnetzen haben jedermann diskriminierungsfrei Netzzugang zu gewähren. "
           "Sie haben die Bedingungen dafür im Internet zu veröffentlichen und auf Anfrage mitzuteilen.")


def _store(tmp_path: Path) -> CorpusStore:
    store = CorpusStore(tmp_path / "c.sqlite")
    law = Document("/x/enwg.md", "", "EnWG", [Section(SECTION, "EnWG > § 20 Zugang zu den Energieversorgungsnetzen")],
                   {"law": "EnWG"}, "de")
    law_chunk = Chunk(law.doc_id, 0, SECTION, heading="EnWG > § 20 Zugang zu den Energieversorgungsnetzen")
    onto = Document("/x/oeo.omn", "iri:1", "wind turbine", [Section("wind turbine: A wind turbine is a machine.")],
                    {"format": "omn", "iri": "iri:1", "label_en": "wind turbine", "terms_de": "Windenergieanlage; WEA",
                     "terms_en": ""}, "en")
    onto_chunk = Chunk(onto.doc_id, 0, "wind turbine: A wind turbine is a machine.")
    store.replace_file("/x/enwg.md", "h", 1, "w", [(law, [law_chunk])])
    store.replace_file("/x/oeo.omn", "h", 1, "w", [(onto, [onto_chunk])])
    return store


def test_rules_make_heading_cloze_and_term_pairs_with_provenance(tmp_path: Path) -> None:
    store = _store(tmp_path)
    pairs = mine_corpus_pairs(store)
    by_rule = {p.rule: p for p in pairs}
    assert by_rule["heading"].query == "Zugang zu den Energieversorgungsnetzen"  # § number stripped
    assert by_rule["heading"].positive == SECTION  # the heading itself is not in the positive
    assert by_rule["inverse-cloze"].query.startswith("Betreiber") and "Internet" in by_rule["inverse-cloze"].positive
    terms = sorted(p.query for p in pairs if p.rule == "term-definition")
    assert terms == ["WEA", "Windenergieanlage", "wind turbine"]
    assert {p.positive for p in pairs if p.rule == "term-definition"} == {"A wind turbine is a machine."}
    chunk_ids = {rec.chunk_id for rec in store.iter_chunks()}
    assert all(p.chunk_id in chunk_ids and p.doc_id for p in pairs)
    assert {p.rule for p in mine_corpus_pairs(store, ["heading"])} == {"heading"}


def test_inverse_cloze_needs_two_substantial_sentences() -> None:
    assert inverse_cloze("Nur ein Satz ohne Rest hier.") is None
    lead, rest = inverse_cloze(SECTION)  # type: ignore[misc]
    assert lead.endswith("gewähren.") and rest.startswith("Sie haben")


def test_split_by_document_never_puts_one_document_on_both_sides() -> None:
    pairs = [Pair(f"q{i}", f"p{i}", f"doc{i % 40}", "heading") for i in range(400)]
    train, heldout = split_by_document(pairs, 0.25, seed=3)
    assert {p.doc_id for p in train}.isdisjoint({p.doc_id for p in heldout})
    assert 0.1 < len(heldout) / len(pairs) < 0.45
    assert split_by_document(pairs, 0.25, seed=3) == (train, heldout)  # deterministic
    assert document_split("doc1", 0.0) == "train"


def test_jsonl_pairs_round_trip_keeps_provenance(tmp_path: Path) -> None:
    pairs = [Pair("q", "p", "d1", "heading", "c1", ("n",)), Pair("q2", "p2", "d2", "inverse-cloze")]
    path = write_pairs(pairs, tmp_path / "pairs.jsonl")
    assert read_jsonl_pairs(path) == pairs
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": 1}\n', encoding="utf-8")
    with pytest.raises(AdaptlabError, match=r"bad.jsonl: no valid pair \(line 1: expected an object with string"):
        read_jsonl_pairs(bad)
    with pytest.raises(AdaptlabError, match="not found"):
        read_labelled_pairs(tmp_path / "missing.jsonl")


def test_bad_lines_are_skipped_and_reported_and_the_good_ones_kept(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"query": "a", "positive": "b"}\n{oops\n{"query": "c", "positive": "d", "negatives": "e"}\n'
                     '\n{"query": "f", "positive": "g"}\n', encoding="utf-8")
    assert [p.query for p in read_jsonl_pairs(mixed)] == ["a", "f"]
    assert "mixed.jsonl: skipped 2 bad line(s): line 2: invalid JSON" in caplog.text
    assert "line 3: 'negatives' must be a list of strings" in caplog.text


def test_mastr_units_ask_for_two_of_their_fields_by_the_units_name(tmp_path: Path) -> None:
    from adaptlab.corpus.loaders import load_file

    store = CorpusStore(tmp_path / "m.sqlite")
    fixture = Path(__file__).parents[2] / "fixtures" / "mastr" / "einheiten_wind.csv"
    docs = load_file(fixture)
    store.replace_file(str(fixture), "h", 1, "w", [(d, [Chunk(d.doc_id, 0, d.sections[0].text)]) for d in docs])
    pairs = mine_corpus_pairs(store, ["mastr-field"])
    assert len(pairs) == 2 * len(docs) and {p.rule for p in pairs} == {"mastr-field"}
    first = [p for p in pairs if p.doc_id == docs[0].doc_id]
    assert all(p.query.endswith(" WEA 1") and p.positive == docs[0].sections[0].text.strip() for p in first)
    labels = {p.query.removesuffix(" WEA 1") for p in first}
    assert not labels & {"MaStR-Nummer der Einheit", "Hersteller der Einheit"}  # identifiers and empty values
    assert mine_corpus_pairs(store, ["mastr-field"]) == pairs  # the same fields every run
