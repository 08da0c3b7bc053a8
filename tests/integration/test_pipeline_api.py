"""The Python API end to end, in-process (model loaded once): ingest → embed → search, change, re-embed."""

from __future__ import annotations

import shutil

import pytest

import adaptlab
from adaptlab.config import ExperimentConfig
from conftest import FIXTURES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("api")
    shutil.copytree(FIXTURES / "docs", root / "docs")
    shutil.copytree(FIXTURES / "mastr", root / "docs" / "mastr")
    config = ExperimentConfig.model_validate({"chunking": {"unit": "tokens", "model": "minilm"}})
    session = adaptlab.open_session(str(root / "ws"), config=config, tracking_uri="none")
    session.ingest([root / "docs"])
    session.embed("minilm")
    yield session, root / "docs"
    session.close()


def test_every_chunk_has_exactly_one_vector(lab) -> None:
    session, _ = lab
    collection = session.collection("minilm")
    assert session.vectors.count(collection) == session.store.stats()["chunks"] > 0
    assert session.vectors.all_ids(collection) == {r.chunk_id for r in session.store.iter_chunks()}


def test_search_ranks_the_relevant_unit_first_with_metadata(lab) -> None:
    session, _ = lab
    hits = session.search("Solarpark Nettonennleistung", k=3)
    assert hits[0].metadata["technology"] == "solar" and hits[0].source.endswith("EinheitenSolar.xml")
    assert [h.rank for h in hits] == [1, 2, 3] and hits[0].score >= hits[-1].score


def test_filters_on_language_and_on_mastr_metadata(lab) -> None:
    session, _ = lab
    assert {h.lang for h in session.search("wind energy", k=5, filter='lang == "de"')} == {"de"}
    wind = session.search("Anlage", k=10, filter='technology == "wind"')
    assert wind and all(h.metadata["technology"] == "wind" for h in wind)
    big = session.search("Anlage", k=10, filter="net_capacity_kw > 1000")
    assert big and all(h.metadata["net_capacity_kw"] > 1000 for h in big)


def test_an_edited_file_replaces_its_vectors_and_nothing_else(lab) -> None:
    session, docs = lab
    collection = session.collection("minilm")
    (docs / "notes.txt").write_text("Völlig neuer Text über Wasserstoff-Elektrolyse und Speicher.", "utf-8")
    ingest = session.ingest([docs])
    assert ingest.files_ingested == 1 and ingest.documents_updated == 1
    report = session.embed("minilm")
    assert report.stale_deleted >= 1 and report.embedded_now >= 1
    assert session.vectors.count(collection) == session.store.stats()["chunks"]
    assert "Wasserstoff" in session.search("Wasserstoff Elektrolyse", k=1)[0].text
    assert session.embed("minilm").embedded_now == 0  # up to date: nothing re-encoded
