"""The Feast feature store for real: a Debian redis-server on loopback, the SQLite default, /search boosts."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from integration.feature_workspace import add_document, add_feedback, chunk_of, make_corpus

from adaptlab.errors import AdaptlabError
from adaptlab.features.local_redis import free_port, local_redis, redis_server_binary
from adaptlab.features.repo import FeatureRepo
from adaptlab.workspace import Workspace

pytest.importorskip("feast", reason="needs the features extra: pip install -e '.[features]'")


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if redis_server_binary() is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    with local_redis() as url:  # killed when the module's tests are done
        yield url


def check_features(rows: dict, corpus: dict) -> None:
    assert set(rows) == set(corpus["chunks"])
    for chunk_id, (doc_id, law, lang, n_words) in corpus["chunks"].items():
        row = rows[chunk_id]
        assert (row["doc_id"], row["law"], row["lang"], row["n_words"]) == (doc_id, law, lang, n_words)


@pytest.mark.slow
def test_redis_apply_materialize_read_then_incremental_feedback(tmp_path: Path, redis_url: str) -> None:
    import redis

    root = tmp_path / "ws"
    corpus = make_corpus(root)
    FeatureRepo(Workspace.resolve(root)).apply()
    FeatureRepo(Workspace.resolve(root)).materialize()  # into SQLite first: Redis must still get everything
    repo = FeatureRepo(Workspace.resolve(root), redis_url)
    repo.apply()
    first = repo.materialize()
    assert first.views == {"chunk_metadata": "full", "document_popularity": "full", "chunk_embedding": "full"}
    repo.sqlite_path.unlink()  # whatever is read now comes from Redis
    reader = repo.reader()
    rows = reader.get(list(corpus["chunks"]))
    check_features(rows, corpus)
    assert all(r["clicks"] is None for r in rows.values())  # no feedback yet
    assert redis.Redis.from_url(redis_url).dbsize() >= len(corpus["chunks"])  # one hash per chunk, in Redis

    enwg = chunk_of(corpus, "enwg.md")
    add_feedback(
        root, [{"kind": "click", "chunk_id": enwg}] * 3 + [{"kind": "rating", "chunk_id": enwg, "rating": 4}]
    )
    second = repo.materialize()
    assert second.views["chunk_metadata"] == "incremental" and second.export.clicks == 3
    after = reader.get(list(corpus["chunks"]))
    same_doc = [c for c, (d, *_) in corpus["chunks"].items() if d == corpus["docs"]["enwg.md"]]
    for chunk_id in same_doc:  # every chunk of the clicked document shares its popularity
        row = after[chunk_id]
        assert (row["clicks"], row["ratings"], row["mean_rating"]) == (3, 1, 4.0)
        assert math.isclose(row["popularity"], math.log(4))
    assert after[chunk_of(corpus, "notes.txt")]["clicks"] is None
    pop = reader.popularity([enwg, chunk_of(corpus, "notes.txt"), "no-such-chunk"])  # what /search reads
    assert pop[enwg] == {k: after[enwg][k] for k in ("clicks", "ratings", "mean_rating", "popularity")}
    assert pop[chunk_of(corpus, "notes.txt")]["clicks"] is None and pop["no-such-chunk"] == {}
    assert reader.get(["no-such-chunk"])["no-such-chunk"]["lang"] is None


@pytest.mark.slow
def test_sqlite_online_store_and_the_cli(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    corpus = make_corpus(root)
    repo = FeatureRepo(Workspace.resolve(root))  # the default: SQLite in the workspace
    repo.apply()
    repo.materialize()
    assert repo.sqlite_path.is_file() and (repo.root / "feature_store.yaml").is_file()
    check_features(repo.reader().get(list(corpus["chunks"])), corpus)
    new = add_document(root, "geg.md", "Neue Gebäude müssen den Wärmebedarf senken.", {"jurabk": "GEG"})
    assert repo.reader().get([new])[new]["lang"] is None  # ingested after the last materialize

    from typer.testing import CliRunner

    from adaptlab.cli.main import _register, app

    _register()  # the real commands, in this process (Feast is imported already)
    runner = CliRunner()
    materialized = runner.invoke(
        app, ["features", "materialize", "--json", "--tracking-uri", "none", "--workspace", str(root)]
    )
    assert materialized.exit_code == 0, materialized.output
    # Feast's progress chatter goes to stderr, so stdout is clean JSON
    assert json.loads(materialized.stdout)["views"]["chunk_metadata"] == "incremental"
    fresh = runner.invoke(app, ["features", "get", new, "--json", "--workspace", str(root)])
    assert fresh.exit_code == 0 and json.loads(fresh.stdout)[new]["law"] == "GEG"  # picked up incrementally
    ids = sorted(corpus["chunks"])[:2]
    got = runner.invoke(app, ["features", "get", *ids, "missing-id", "--json", "--workspace", str(root)])
    assert got.exit_code == 0, got.output
    rows = json.loads(got.stdout)
    assert [rows[c]["law"] for c in ids] == [corpus["chunks"][c][1] for c in ids]
    assert rows["missing-id"]["lang"] is None
    assert "1 of 3 chunk ids have no online features" in got.stderr


def test_errors_are_one_line(tmp_path: Path) -> None:
    not_applied = run_cli("features", "get", "abc", "--workspace", str(tmp_path / "ws"))
    assert not_applied.returncode == 2
    assert not_applied.stderr.strip().splitlines() == [
        f"error: no feature repo in {tmp_path / 'ws' / 'features'}: run `adaptlab features apply "
        f"--workspace {tmp_path / 'ws'}` first"
    ]
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with pytest.raises(AdaptlabError, match=rf"Redis at {url} is unreachable .*start redis-server"):
        FeatureRepo(Workspace.resolve(tmp_path / "ws"), url).apply()
    assert not (tmp_path / "ws" / "features" / "data").exists()  # nothing written before the check


@pytest.mark.slow
def test_search_boost_reads_online_features(tmp_path: Path) -> None:
    """A document users clicked moves to the top of /search once its popularity is materialized."""
    pytest.importorskip("fastapi", reason="needs the serve extra")
    from fastapi.testclient import TestClient

    from adaptlab.config import parse_config
    from adaptlab.serve.app import create_app

    root = tmp_path / "ws"
    corpus = make_corpus(root)
    repo = FeatureRepo(Workspace.resolve(root))
    repo.apply()
    repo.materialize()
    config = parse_config({"features": {"popularity_boost": 100.0}})
    query = {"query": "Netz Anlagen Wind grid", "mode": "bm25", "k": 6}
    with TestClient(create_app(root, "minilm", config=config)) as client:
        before = client.get("/search", params=query).json()["hits"]
        last = before[-1]
        for _ in range(2):
            client.post("/feedback", json={"request_id": "r", "kind": "click", "chunk_id": last["chunk_id"]})
        assert client.app.state.serving_log.flush()
        repo.materialize()
        after = client.get("/search", params=query).json()["hits"]
    doc_of = {c: d for c, (d, *_) in corpus["chunks"].items()}
    clicked = doc_of[last["chunk_id"]]
    assert doc_of[before[0]["chunk_id"]] != clicked and len(after) == len(before)
    assert doc_of[after[0]["chunk_id"]] == clicked  # the clicked document leads now
    was = {h["chunk_id"]: h["score"] for h in before}
    # each chunk of the clicked document gained 100 × ln(1 + 2 clicks); the rest kept their score
    for h in after:
        gain = 100.0 * math.log(3) if doc_of[h["chunk_id"]] == clicked else 0.0
        assert math.isclose(h["score"], was[h["chunk_id"]] + gain, rel_tol=1e-6)
    assert [h["rank"] for h in after] == list(range(1, len(after) + 1))


@pytest.mark.slow
def test_search_is_served_unboosted_when_redis_goes_away(tmp_path: Path) -> None:
    if redis_server_binary() is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    from adaptlab.config import FeaturesSection
    from adaptlab.features.ranking import PopularityRanker
    from adaptlab.retrieval.dense import SearchHit

    root = tmp_path / "ws"
    corpus = make_corpus(root)
    add_feedback(root, [{"kind": "click", "chunk_id": chunk_of(corpus, "notes.txt")}])
    hits = [
        SearchHit(i + 1, 1.0 - i / 10, c, "t", "", "", "", None, "de", {})
        for i, c in enumerate(corpus["chunks"])
    ]
    with local_redis() as url:
        repo = FeatureRepo(Workspace.resolve(root), url)
        repo.apply()
        repo.materialize()
        ranker = PopularityRanker.open(repo.workspace, FeaturesSection(online=url, popularity_boost=10.0))
        boosted = ranker(hits)
        assert (
            corpus["chunks"][boosted[0].chunk_id][0] == corpus["docs"]["notes.txt"] and ranker.failures == 0
        )
    start = time.monotonic()
    served = ranker(hits)  # the server is gone: the page goes out as the search ranked it
    assert served == hits and ranker.failures == 1 and "Connection" in (ranker.last_error or "")
    assert time.monotonic() - start < 3  # no retries with backoff: a dead Redis costs one refused connect


@pytest.mark.slow
def test_chunk_embeddings_are_milvus_vectors_offline_and_online(tmp_path: Path) -> None:
    """The chunk_embedding feature is the model's Milvus collection, unchanged, in Parquet, SQLite and Redis."""
    import numpy as np
    import pyarrow.parquet as pq

    from adaptlab.pipeline import Session

    root = tmp_path / "ws"
    corpus = make_corpus(root)
    repo = FeatureRepo(Workspace.resolve(root))
    skipped = repo.apply()  # nothing embedded yet: an empty table and a note, not an error
    assert skipped.embeddings == 0 and "nothing embedded yet" in skipped.notes[0]
    with Session.open(root) as session:
        session.embed("minilm")
        ids, matrix = session.vectors.all_vectors(session.collection("minilm"))
    milvus = dict(zip(ids, matrix))
    assert set(milvus) == set(corpus["chunks"])

    report = repo.materialize()
    assert report.export.embeddings == 6 and report.export.embedding_model == "minilm"
    assert report.views["chunk_embedding"] == "full"
    table = pq.read_table(report.export.embedding_file).to_pylist()
    for row in table:
        exported, held = np.asarray(row["embedding"], dtype=np.float32), milvus[row["chunk_id"]]
        cosine = float(exported @ held / np.linalg.norm(exported) / np.linalg.norm(held))
        assert row["model"] == "minilm" and cosine == pytest.approx(1.0, abs=1e-6)
        assert np.array_equal(exported, held)  # float32 in, float32 out: bit for bit

    chunk = chunk_of(corpus, "eeg.md")
    online = repo.reader().get([chunk, "no-such-chunk"], embedding=True)
    assert online[chunk]["model"] == "minilm" and np.array_equal(
        np.asarray(online[chunk]["embedding"], dtype=np.float32), milvus[chunk]
    )
    assert online["no-such-chunk"]["embedding"] is None
    from typer.testing import CliRunner

    from adaptlab.cli.main import _register, app

    _register()
    cli = CliRunner().invoke(
        app, ["features", "get", chunk, "--embedding", "--json", "--workspace", str(root)]
    )
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.stdout)[chunk]["embedding"] == pytest.approx(milvus[chunk].tolist())
    assert repo.materialize().views["chunk_embedding"] == "incremental"  # same vectors: nothing to copy again

    if redis_server_binary() is not None:
        with local_redis() as url:
            redis_repo = FeatureRepo(Workspace.resolve(root), url)
            redis_repo.apply()
            redis_repo.materialize()
            got = redis_repo.reader().get([chunk], embedding=True)[chunk]
            assert np.array_equal(np.asarray(got["embedding"], dtype=np.float32), milvus[chunk])
