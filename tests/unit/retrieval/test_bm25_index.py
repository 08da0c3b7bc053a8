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
