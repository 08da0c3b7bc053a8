from pathlib import Path

import numpy as np

from adaptlab.retrieval.bm25 import BM25Index

DOCS = {
    "wind": "Windenergieanlagen auf See werden an das Netz angeschlossen.",
    "solar": "Solaranlagen auf Dächern erzeugen Strom aus Sonnenlicht.",
    "enwg": "Das EnWG regelt den Netzzugang für Betreiber von Anlagen.",
}


def _index() -> BM25Index:
    return BM25Index.build(list(DOCS), list(DOCS.values()), ["de"] * len(DOCS))


def test_the_document_with_the_exact_term_ranks_first() -> None:
    (ranking,) = _index().search_many(["EnWG"], k=3)
    assert ranking[0][0] == "enwg" and len(ranking) == 1  # documents without the term are left out


def test_inflected_query_terms_find_their_document() -> None:
    (ranking,) = _index().search_many(["Anlage Betreibern"], k=3)
    assert ranking[0][0] == "enwg"


def test_a_mask_restricts_the_search_to_a_subset() -> None:
    index = _index()
    mask = np.array([1, 1, 0])
    assert index.search_many(["EnWG"], k=3, mask=mask) == [[]]
    assert index.search_many(["Sonnenlicht"], k=3, mask=mask)[0][0][0] == "solar"


def test_queries_without_known_terms_and_k_beyond_the_corpus_are_fine() -> None:
    assert _index().search_many(["Quantencomputer", "Netz"], k=50)[0] == []


def test_a_saved_index_loads_only_for_its_fingerprint(tmp_path: Path) -> None:
    folder = tmp_path / "bm25"
    _index().save(folder, "fp1")
    loaded = BM25Index.load(folder, "fp1")
    assert loaded is not None and loaded.search_many(["EnWG"], 1)[0][0][0] == "enwg"
    assert BM25Index.load(folder, "fp2") is None
    assert BM25Index.load(tmp_path / "missing", "fp1") is None


COMPOUNDS = {
    "wea": "Die Windenergieanlage steht auf dem Feld und liefert Strom.",
    "anlagen": "Anlagen für Windenergie brauchen eine Genehmigung der Behörde.",
    "speicher": "Der Betreiber meldet jede Anlage und jeden Speicher.",
    "netz": "Windenergie und Sonne speisen in das Netz ein.",
}


def test_german_compounds_match_their_parts_in_documents_and_queries() -> None:
    index = BM25Index.build(list(COMPOUNDS), list(COMPOUNDS.values()), ["de"] * len(COMPOUNDS))
    (parts_query,) = index.search_many(["Windenergieanlagen"], k=4)
    assert parts_query[0][0] in ("wea", "anlagen") and {"wea", "anlagen"} <= {d for d, _ in parts_query[:2]}
    (part_query,) = index.search_many(["Anlage"], k=4)
    assert "wea" in {d for d, _ in part_query}  # "Windenergieanlage" holds an "Anlage"
    assert index.query_terms("Windenergieanlagen")[0] == "windenergieanlag"  # the whole word first
    plain = BM25Index.build(list(COMPOUNDS), list(COMPOUNDS.values()), ["en"] * len(COMPOUNDS))
    assert plain.splitter is None and "wea" not in {d for d, _ in plain.search_many(["Anlage"], k=4)[0]}


def test_a_loaded_index_splits_queries_as_the_built_one_did(tmp_path: Path) -> None:
    built = BM25Index.build(list(COMPOUNDS), list(COMPOUNDS.values()), ["de"] * len(COMPOUNDS))
    built.save(tmp_path / "bm25", "fp")
    loaded = BM25Index.load(tmp_path / "bm25", "fp")
    queries = ["Windenergieanlagen", "Anlagenbetreiber", "Stromspeicher im Netz"]
    assert loaded is not None and loaded.search_many(queries, 4) == built.search_many(queries, 4)


def test_stray_languages_do_not_analyse_every_query() -> None:
    from adaptlab.retrieval.bm25 import query_languages

    assert query_languages(["de"] * 98 + ["en", "und"]) == ["de"]
    assert query_languages(["de"] * 60 + ["en"] * 40) == ["de", "en"]
    assert query_languages(["und"] * 3) == ["und"]
    assert query_languages([]) == []
