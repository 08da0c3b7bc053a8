"""Lexical query expansion: compounds split on the corpus' own vocabulary, ontology synonyms, RRF of rewrites."""

from __future__ import annotations

from adaptlab.retrieval.bm25 import BM25Index
from adaptlab.retrieval.compounds import CompoundSplitter
from adaptlab.retrieval.dense import SearchHit
from adaptlab.retrieval.expansion import (
    OntologySynonyms,
    QueryExpander,
    fuse_hits,
    multi_query,
)

TEXTS = [
    "Der Betreiber einer Anlage muss die Anlage beim Netzbetreiber anmelden.",
    "Die Windenergie an Land wächst; jede Anlage braucht eine Genehmigung.",
    "Strom aus Wind und Sonne wird in das Netz eingespeist.",
    "Der Status des Betriebs wird im Register geführt.",
    "Ein Speicher nimmt Strom auf und gibt ihn später ab.",
    "Das Netz der Übertragung und das Netz der Verteilung.",
]


def test_compounds_split_where_the_corpus_knows_the_parts() -> None:
    splitter = CompoundSplitter.from_texts(TEXTS)
    assert splitter.split("Windenergieanlagen") == ["windenergie", "anlagen"]
    assert splitter.split("Anlagenbetreiber") == ["anlagen", "betreiber"]
    assert splitter.split("Betriebsstatus") == ["betrieb", "status"]  # linking -s- dropped
    assert splitter.split("Stromspeicher") == ["strom", "speicher"]
    assert splitter.split("Genehmigung") == ["genehmigung"]  # a known word stays whole
    assert splitter.split("Quantenchromodynamik") == ["quantenchromodynamik"]  # unknown parts: no split
    assert splitter.split("Netz") == ["netz"]  # too short to be a compound


def test_splitter_from_a_bm25_index_uses_its_document_frequencies() -> None:
    index = BM25Index.build([str(i) for i in range(len(TEXTS))], TEXTS, ["de"] * len(TEXTS))
    splitter = CompoundSplitter.from_bm25(index.model.vocab_dict, index.model.scores["indptr"])
    assert splitter.frequency("anlage") == 2  # "Netzbetreiber" is indexed with its parts: netz is in 3 documents
    assert splitter.frequency("netz") == 3
    assert splitter.split("Anlagenbetreiber") == ["anlagen", "betreiber"]
    expanded = QueryExpander(splitter).expand("Wer ist Anlagenbetreiber?")
    assert expanded.lexical_query == "Wer ist Anlagenbetreiber? anlagen betreiber"
    ranking = index.search_many([expanded.lexical_query, expanded.query], k=3)
    assert ranking[0] and ranking[0][0][0] == "0"  # the expanded query finds the operator sentence
    assert ranking[1][0][0] == "0"  # so does the compound alone: BM25 splits query compounds itself


def test_synonyms_translate_terms_both_ways_on_stems() -> None:
    synonyms = OntologySynonyms(
        [["wind turbine", "Windenergieanlage", "Windkraftanlage"], ["heat pump", "Wärmepumpe"]]
    )
    assert synonyms.lookup("Wie laut sind Windenergieanlagen?") == ["Windkraftanlage", "wind turbine"]
    assert synonyms.lookup("How efficient are heat pumps?") == ["Wärmepumpe"]
    assert synonyms.lookup("Wärmepumpe oder heat pump?") == []  # nothing the query already has
    assert synonyms.lookup("Nothing related here") == []
    expander = QueryExpander(None, synonyms, max_synonyms=1)
    assert expander.expand("heat pump").lexical_query == "heat pump Wärmepumpe"


def test_english_queries_are_not_split() -> None:
    splitter = CompoundSplitter({"under": 5, "stand": 5, "standing": 5, "understanding": 1})
    assert (
        QueryExpander(splitter).expand("Understanding the standing rules of the parliament").compounds == {}
    )


def _hit(cid: str, rank: int) -> SearchHit:
    return SearchHit(rank, 1.0 / rank, cid, cid, "", "", "", None, "de", {})


def test_rewrites_fuse_by_reciprocal_rank() -> None:
    own = [_hit("a", 1), _hit("b", 2), _hit("c", 3)]
    rewrite = [_hit("b", 1), _hit("d", 2)]
    fused = fuse_hits([own, rewrite], k=3)
    assert [h.chunk_id for h in fused] == ["b", "a", "d"] and [h.rank for h in fused] == [1, 2, 3]


class Lines:
    name = "lines"

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 200) -> str:
        return self.reply


def test_multi_query_parses_rewrites_and_drops_echoes() -> None:
    reply = '1. Netzentgelte Strom\n- "grid fees electricity"\nWas kostet das Netz?\nWas kostet das Netz?\nx'
    assert multi_query(Lines(reply), "Was kostet das Netz?", n=3) == [
        "Netzentgelte Strom",
        "grid fees electricity",
    ]
