"""BM25 over a real (model-free) workspace corpus: persisted, rebuilt only on change, filterable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import adaptlab
from adaptlab.errors import AdaptlabError
from adaptlab.retrieval.bm25 import BM25Index
from conftest import FIXTURES


@pytest.fixture
def lab(tmp_path: Path):
    shutil.copytree(FIXTURES / "docs", tmp_path / "docs")
    session = adaptlab.open_session(str(tmp_path / "ws"), tracking_uri="none")
    session.ingest([tmp_path / "docs"])
    yield session, tmp_path
    session.close()


def test_bm25_search_finds_the_exact_term_and_is_persisted(lab) -> None:
    session, root = lab
    hits = session.search("BImSchG Genehmigung", k=3, mode="bm25")
    assert "BImSchG" in hits[0].text and hits[0].heading.endswith("Genehmigung")
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert (root / "ws" / "bm25" / "corpus" / "adaptlab.json").is_file()


def test_index_is_loaded_when_unchanged_and_rebuilt_when_the_corpus_changed(lab, monkeypatch) -> None:
    session, root = lab
    session.search("Netz", mode="bm25")
    built: list[int] = []
    original = BM25Index.build.__func__
    monkeypatch.setattr(BM25Index, "build", classmethod(lambda cls, *a: built.append(1) or original(cls, *a)))
    with adaptlab.open_session(str(root / "ws"), tracking_uri="none") as fresh:
        fresh.search("Netz", mode="bm25")
        assert built == []  # loaded from disk
        (root / "docs" / "notes.txt").write_text("Wasserstoff aus Elektrolyse speichert Windstrom.", "utf-8")
        fresh.ingest([root / "docs"])
        assert "Wasserstoff" in fresh.search("Wasserstoff", k=1, mode="bm25")[0].text
        assert built == [1]


def test_filters_apply_to_bm25(lab) -> None:
    session, _ = lab
    hits = session.search("Anlagen Strom Wärme", k=10, mode="bm25", filter='category == "Effizienz"')
    assert hits and all(h.metadata["category"] == "Effizienz" for h in hits)
    german = session.search("Wind Strom", k=10, mode="bm25", filter='lang == "de"')
    assert german and {h.lang for h in german} == {"de"}
    with pytest.raises(AdaptlabError, match="not supported for BM25"):
        session.search("Wind", mode="bm25", filter='lang like "d%"')


def test_unknown_mode_is_a_user_error(lab) -> None:
    session, _ = lab
    with pytest.raises(AdaptlabError, match="unknown search mode"):
        session.search("Wind", mode="sparse")
