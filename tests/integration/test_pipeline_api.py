"""The Python API end to end, in-process (model loaded once): ingest → embed → search, change, re-embed."""

from __future__ import annotations

import shutil

import pytest

import adaptlab
from adaptlab.config import ExperimentConfig
from adaptlab.errors import AdaptlabError
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


def test_a_query_encoder_of_the_same_space_answers_like_the_model(lab) -> None:
    session, _ = lab
    questions = ["Solarpark Nettonennleistung", "Windenergie an Land", "grid connection of wind farms"]
    plain = {mode: [session.search(q, k=3, mode=mode) for q in questions] for mode in ("dense", "hybrid")}
    session.config.search.query_encoders = {"minilm": "minilm-onnx-int8"}
    try:
        assert session.query_embedder("minilm").name == "minilm-onnx-int8"
        for mode, expected in plain.items():
            fast = [session.search(q, k=3, mode=mode) for q in questions]
            assert [h[0].chunk_id for h in fast] == [h[0].chunk_id for h in expected], mode
            assert all(abs(f[0].score - e[0].score) < 0.05 for f, e in zip(fast, expected))
    finally:
        session.config.search.query_encoders = {}
    assert session.query_embedder("minilm").name == "minilm"


def test_bf16_query_encoder_answers_like_the_model_and_auto_resolves(lab) -> None:
    from adaptlab.models.engine.cpu_packed import fast_bf16_cpu

    session, _ = lab
    questions = ["Solarpark Nettonennleistung", "Windenergie an Land", "grid connection of wind farms"]
    plain = [session.search(q, k=3) for q in questions]
    session.config.search.query_encoders = {"minilm": "bf16"}
    try:
        assert "bf16 queries" in session.query_embedder("minilm").name
        fast = [session.search(q, k=3) for q in questions]
        assert [[h.chunk_id for h in f] for f in fast] == [[h.chunk_id for h in p] for p in plain]
        assert all(abs(a.score - b.score) < 0.01 for f, p in zip(fast, plain) for a, b in zip(f, p))
        session.config.search.query_encoders = {"minilm": "auto"}
        assert session.query_encoder_kind("minilm") == ("bf16" if fast_bf16_cpu() else "onnx-int8")
    finally:
        session.config.search.query_encoders = {}


def test_a_query_encoder_of_another_dimension_is_refused(lab) -> None:
    session, _ = lab
    session.config.search.query_encoders = {"minilm": "use-multilingual"}
    try:
        with pytest.raises(AdaptlabError, match="query_encoders.*512-d.*384-d"):
            session.search("Wind", k=1)
    finally:
        session.config.search.query_encoders = {}


def test_in_memory_copy_answers_like_milvus_and_follows_a_re_embed(lab) -> None:
    session, docs = lab
    questions = ["Solarpark Nettonennleistung", "Windenergie an Land", "grid connection of wind farms"]
    milvus = [session.search(q, k=5) for q in questions]
    session.config.search.in_memory = True
    try:
        memory = [session.search(q, k=5) for q in questions]
        assert [[h.chunk_id for h in hits] for hits in memory] == [[h.chunk_id for h in hits] for hits in milvus]
        assert all(abs(a.score - b.score) < 1e-4 for m, v in zip(memory, milvus) for a, b in zip(m, v))
        filtered = session.search("wind energy", k=5, filter='lang == "de"')  # filters still go to Milvus
        assert filtered and {h.lang for h in filtered} == {"de"}
        (docs / "replica.txt").write_text("Fernwärme aus Großwärmepumpen am Rhein versorgt Köln.", "utf-8")
        session.ingest([docs])
        session.embed("minilm")
        hits = session.search("Großwärmepumpen Fernwärme Köln", k=1)
        assert hits[0].source.endswith("replica.txt")  # the copy was reloaded after the embed
    finally:
        session.config.search.in_memory = False


def test_onnx_int8_query_encoder_is_exported_once_into_the_model_cache(lab) -> None:
    session, _ = lab
    questions = ["Solarpark Nettonennleistung", "Windenergie an Land"]
    plain = [session.search(q, k=1)[0].chunk_id for q in questions]
    session.config.search.query_encoders = {"minilm": "onnx-int8"}
    try:
        assert [session.search(q, k=1)[0].chunk_id for q in questions] == plain
        folder = session.workspace.model_cache / "onnx" / "minilm-onnx-int8"
        assert (folder / "model.onnx").is_file() and session.query_embedder("minilm").name == str(folder)
    finally:
        session.config.search.query_encoders = {}
