"""Self-query rules: filters the question names, only on fields and values the corpus has, never empty."""

from __future__ import annotations

import json
import sqlite3

import pytest

from adaptlab.corpus.store import ChunkRecord
from adaptlab.retrieval.filters import parse_filter
from adaptlab.retrieval.self_query import Facets, QueryFilters, llm_self_query, self_query

LAWS = Facets([("de", law, None, None) for law in ("EnWG 2005", "EEG 2014", "KSG", "BImSchG", "WindSeeG")])
MIXED = Facets(
    [*LAWS.rows, ("de", None, "solar", 2019), ("de", None, "wind", 2015), ("en", None, None, None)]
)


@pytest.mark.parametrize(
    ("question", "law", "query"),
    [
        ("Was regelt das EnWG zu Netzentgelten?", "EnWG 2005", "Was regelt zu Netzentgelten?"),
        (
            "Welche Pflichten hat ein Anlagenbetreiber nach dem EEG 2014?",
            "EEG 2014",
            "Welche Pflichten hat ein Anlagenbetreiber?",
        ),
        ("Begriffsbestimmungen im Klimaschutzgesetz", "KSG", "Begriffsbestimmungen"),
        (
            "What does the Renewable Energy Sources Act say about tenders?",
            "EEG 2014",
            "What does say about tenders?",
        ),
        ("Genehmigung nach bimschg", "BImSchG", "Genehmigung"),
        ("Begrenzte EEG-Umlage bei Stromspeichern", "EEG 2014", "Begrenzte EEG-Umlage bei Stromspeichern"),
    ],
)
def test_law_named_by_abbreviation_or_name_becomes_the_corpus_value(
    question: str, law: str, query: str
) -> None:
    found = self_query(question, LAWS)
    assert found.filter == f'law == "{law}"'
    assert found.query == query


def test_no_false_filters() -> None:
    for question in (
        "Wann wurde die Universität gegründet?",  # German question: its language is no filter
        "In welchem Jahr endete der Krieg, 1945?",  # a year, but no chunk carries a date
        "Ausschreibungen für Windenergieanlagen auf See",  # 'Wind', but laws carry no technology
        "What does the EEG 2017 say?",  # that version is not in the corpus
        "Wie funktioniert ein Kraftwerk?",  # KWKG is known, but 'Kraftwerk' does not name it
        "Welcher Teil von Luthers letzter Schrift war auf Deutsch?",  # content, not a wish for German sources
        "Fachaufsicht über das Bundesamt für Seeschifffahrt und Hydrographie",  # not hydropower
    ):
        found = self_query(question, LAWS)
        assert found.filter is None, (question, found.detected)
        assert found.query == question
    assert self_query("Wann wurde die Universität gegründet?", LAWS).detected["question_lang"] == "de"


def test_technology_years_and_language_wish_on_a_mixed_corpus() -> None:
    found = self_query("Wie viele Solaranlagen wurden 2019 in Betrieb genommen?", MIXED)
    assert found.filter == (
        'technology == "solar" and commissioning_date >= "2019-01-01" and commissioning_date <= "2019-12-31"'
    )
    assert (
        self_query("Windparks seit 2015", MIXED).filter
        == 'technology == "wind" and commissioning_date >= "2015-01-01"'
    )
    before = self_query(
        "Windparks vor 2010", MIXED
    )  # no wind unit that old: the date clause goes, wind stays
    assert before.filter == 'technology == "wind"' and before.detected["dropped"] == ["commissioning_date"]
    assert (
        self_query("Gibt es deutsche Quellen zu Windparks?", MIXED).filter
        == 'lang == "de" and technology == "wind"'
    )
    english = self_query("Which units exist? English sources only", MIXED)
    assert english.filter == 'lang == "en"' and english.query == "Which units exist?"
    assert (
        self_query("Wind und Solar im Vergleich", MIXED).filter is None
    )  # two technologies: no OR in the syntax


def test_combination_that_matches_nothing_is_dropped_and_user_filter_kept() -> None:
    found = self_query("Photovoltaik im EEG", MIXED)  # EEG sections carry no technology
    assert found.filter == 'law == "EEG 2014"'
    assert "technology" in found.detected["dropped"]
    kept = self_query("Was regelt das EnWG?", LAWS, user_filter='lang == "de"')
    assert kept.filter == 'lang == "de" and law == "EnWG 2005"'
    assert self_query("Was regelt das EnWG?", LAWS, user_filter='law == "KSG"').filter == 'law == "KSG"'


def test_expressions_parse_and_match_the_records_they_were_made_for() -> None:
    unit = ChunkRecord(
        "c1",
        "d1",
        0,
        "",
        "Solar",
        None,
        "de",
        "x.xml",
        "Solareinheit",
        {"technology": "solar", "commissioning_date": "2019-05-23"},
    )
    law = ChunkRecord("c2", "d2", 0, "§ 3", "Text", None, "de", "enwg.md", "EnWG", {"law": "EnWG 2005"})
    facets = Facets.from_records([unit, law])
    solar = parse_filter(self_query("Solaranlagen aus 2019", facets).filter or "")
    assert solar.matches(unit) and not solar.matches(law)
    enwg = parse_filter(self_query("Netzzugang im EnWG", facets).filter or "")
    assert enwg.matches(law) and not enwg.matches(unit)


def test_facets_from_the_store_schema() -> None:
    conn = sqlite3.connect(":memory:")
    conn.executescript(
        "CREATE TABLE documents (doc_id TEXT, metadata TEXT); CREATE TABLE chunks (doc_id TEXT, lang TEXT);"
    )
    conn.executemany(
        "INSERT INTO documents VALUES (?, ?)",
        [
            ("a", json.dumps({"law": "KSG"})),
            ("b", json.dumps({"technology": "wind", "commissioning_date": "2016-02-01"})),
        ],
    )
    conn.executemany("INSERT INTO chunks VALUES (?, ?)", [("a", "de"), ("a", "de"), ("b", "de")])
    facets = Facets.from_store(conn)
    assert facets.rows == {("de", "KSG", None, None), ("de", None, "wind", 2016)}


class ScriptedLLM:
    """A real object answering with fixed text, standing in for an endpoint's reply (the parsing is under test)."""

    name = "scripted"

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 200) -> str:
        assert "EnWG 2005" in messages[0]["content"]  # the corpus' values are offered
        return self.reply


def test_llm_self_query_is_validated_and_falls_back_to_rules() -> None:
    good = ScriptedLLM('Sure! ```{"query": "Netzentgelte", "law": "EnWG 2005", "lang": null}```')
    found = llm_self_query("Was sagt das Energiewirtschaftsgesetz zu Netzentgelten?", LAWS, good)
    assert (found.method, found.query, found.filter) == ("llm:scripted", "Netzentgelte", 'law == "EnWG 2005"')
    invented = llm_self_query(
        "Netzentgelte?", LAWS, ScriptedLLM('{"query": "Netzentgelte", "law": "StromNEV"}')
    )
    assert invented.filter is None  # a law the corpus does not have is dropped
    broken = llm_self_query("Was regelt das EnWG?", LAWS, ScriptedLLM('{"query": 3, "lang": "fr"}'))
    assert (
        broken.method == "rules" and broken.filter == 'law == "EnWG 2005"' and "llm_error" in broken.detected
    )
    with pytest.raises(ValueError):
        QueryFilters.model_validate({"query": "x", "lang": "fr"})
