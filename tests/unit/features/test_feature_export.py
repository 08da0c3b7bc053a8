"""Export of the workspace's features to Parquet: the offline store Feast reads."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow.parquet as pq
from integration.feature_workspace import add_feedback, chunk_of, make_corpus

from adaptlab.features.export import export_features, law_of, popularity_score
from adaptlab.workspace import Workspace


def test_chunk_metadata_rows_carry_document_fields(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "ws")
    report = export_features(Workspace.resolve(tmp_path / "ws"), tmp_path / "data")
    table = pq.read_table(report.chunk_file).to_pylist()
    assert report.chunks == len(table) == len(corpus["chunks"]) == 6
    for row in table:
        doc_id, law, lang, n_words = corpus["chunks"][row["chunk_id"]]
        assert (row["doc_id"], row["law"], row["lang"], row["n_words"]) == (doc_id, law, lang, n_words)
        assert row["event_timestamp"].tzinfo is not None  # Feast compares aware timestamps
    assert {r["law"] for r in table} == {"EnWG", "EEG 2023", ""}  # `law`, else `jurabk`, else empty
    assert {r["title"] for r in table} == {"Energiewirtschaftsgesetz", "Erneuerbare-Energien-Gesetz", "Notes"}


def test_popularity_counts_clicks_and_chunk_ratings_per_document(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    corpus = make_corpus(root)
    enwg, notes = chunk_of(corpus, "enwg.md"), chunk_of(corpus, "notes.txt")
    add_feedback(
        root,
        [
            {"kind": "click", "chunk_id": enwg},
            {"kind": "click", "chunk_id": enwg},
            {"kind": "click", "chunk_id": notes},
            {"kind": "rating", "chunk_id": notes, "rating": 2.0},
            {"kind": "rating", "chunk_id": notes, "rating": 5.0},
            {"kind": "rating", "rating": 4.0},  # rates a whole result list: no document to credit
            {"kind": "click", "chunk_id": "gone-from-the-corpus"},
        ],
    )
    report = export_features(Workspace.resolve(root), tmp_path / "data")
    rows = {r["doc_id"]: r for r in pq.read_table(report.popularity_file).to_pylist()}
    assert (report.clicks, report.ratings, report.skipped_feedback) == (3, 2, 2)
    assert set(rows) == {corpus["docs"]["enwg.md"], corpus["docs"]["notes.txt"]}  # EEG: no feedback, no row
    a, b = rows[corpus["docs"]["enwg.md"]], rows[corpus["docs"]["notes.txt"]]
    assert (a["clicks"], a["ratings"], a["mean_rating"]) == (2, 0, 0.0)
    assert (b["clicks"], b["ratings"], b["mean_rating"]) == (1, 2, 3.5)
    assert math.isclose(a["popularity"], math.log(3)) and math.isclose(b["popularity"], math.log(2))


def test_export_is_idempotent_and_works_on_an_empty_workspace(tmp_path: Path) -> None:
    empty = export_features(Workspace.resolve(tmp_path / "empty"), tmp_path / "e")
    assert (empty.chunks, empty.documents_with_feedback) == (0, 0)
    assert pq.read_table(empty.chunk_file).num_rows == 0  # the schema is there for Feast even without rows
    make_corpus(tmp_path / "ws")
    ws = Workspace.resolve(tmp_path / "ws")
    first = pq.read_table(export_features(ws, tmp_path / "d").chunk_file)
    second = pq.read_table(export_features(ws, tmp_path / "d").chunk_file)
    assert first.equals(second)
    assert not list((tmp_path / "d").glob("*.tmp"))


def test_law_and_popularity_helpers() -> None:
    assert law_of({"jurabk": " KWKG 2016 "}) == "KWKG 2016"
    assert law_of({"law": "", "jurabk": "EnWG"}) == "EnWG"
    assert law_of({"law": 3}) == ""
    assert popularity_score(0) == 0.0 and popularity_score(-2) == 0.0
    assert popularity_score(9) > popularity_score(3) > popularity_score(1)


def test_embedding_table_keeps_corpus_chunks_and_its_digest_follows_the_vectors(tmp_path: Path) -> None:
    import numpy as np

    from adaptlab.features.export import ChunkVectors

    corpus = make_corpus(tmp_path / "ws")
    ws = Workspace.resolve(tmp_path / "ws")
    ids = sorted(corpus["chunks"], reverse=True) + ["pruned-from-the-corpus"]
    matrix = np.random.default_rng(0).standard_normal((len(ids), 8)).astype(np.float32)
    report = export_features(ws, tmp_path / "d", ChunkVectors("minilm", ids, matrix))
    rows = pq.read_table(report.embedding_file).to_pylist()
    assert report.embeddings == len(rows) == 6 and [r["chunk_id"] for r in rows] == sorted(corpus["chunks"])
    for row in rows:
        assert row["model"] == "minilm" and np.array_equal(
            np.float32(row["embedding"]), matrix[ids.index(row["chunk_id"])]
        )
    meta = {r["chunk_id"]: r["event_timestamp"] for r in pq.read_table(report.chunk_file).to_pylist()}
    assert all(r["event_timestamp"] == meta[r["chunk_id"]] for r in rows)  # the document's ingest time
    same = export_features(ws, tmp_path / "d", ChunkVectors("minilm", ids, matrix.copy()))
    matrix[0, 0] += 1e-3  # one re-embedded chunk changes the digest, which makes materialize copy all again
    changed = export_features(ws, tmp_path / "d", ChunkVectors("minilm", ids, matrix))
    assert report.embedding_digest == same.embedding_digest != changed.embedding_digest
    empty = export_features(
        ws, tmp_path / "d", ChunkVectors("minilm", [], np.zeros((0, 0), np.float32), "none yet")
    )
    assert (empty.embeddings, empty.embedding_digest, empty.notes) == (0, "", ["none yet"])
    assert str(pq.read_table(empty.embedding_file).schema.field("embedding").type.value_type) == "float"
