"""The HTTP API against a real uvicorn server on a loopback port: search, errors, auth, uploads, RAG."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx", reason="needs httpx (the dev extra)")
pytest.importorskip("fastapi", reason="needs the serve extra: pip install -e '.[serve]'")

from integration.serve_server import FIXTURES, TOKEN, running_server  # noqa: E402

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(served: str):
    with httpx.Client(base_url=served, timeout=120) as c:
        yield c


def test_health_reports_corpus_and_models(client: httpx.Client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["corpus"]["chunks"] > 0 and body["corpus"]["documents"] > 0
    assert body["models"][0]["name"] == "minilm" and body["models"][0]["ready"]
    assert {"dense", "bm25", "hybrid"} <= set(body["modes"])
    assert client.get("/docs").status_code == 200
    assert "/search" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("mode", ["dense", "hybrid", "bm25"])
def test_search_returns_ranked_hits(client: httpx.Client, mode: str) -> None:
    response = client.get("/search", params={"query": "Genehmigung für Windenergieanlagen", "k": 3, "mode": mode})
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    assert 0 < len(hits) <= 3
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    assert all({"score", "source", "section", "page", "lang", "metadata", "text"} <= set(h) for h in hits)
    assert any("windenergie" in h["source"] for h in hits)


def test_post_search_with_filter(client: httpx.Client) -> None:
    response = client.post("/search", json={"query": "Strom", "k": 10, "filter": 'lang == "de"'})
    assert response.status_code == 200, response.text
    assert {h["lang"] for h in response.json()["hits"]} == {"de"}


@pytest.mark.parametrize("mode", ["dense", "bm25"])
def test_bad_filter_is_a_400_with_the_reason(client: httpx.Client, mode: str) -> None:
    response = client.post("/search", json={"query": "Strom", "filter": "lang = = 1", "mode": mode})
    assert response.status_code == 400
    assert "filter" in response.json()["detail"]


def test_bad_requests_are_clear_4xx(client: httpx.Client) -> None:
    assert client.get("/search", params={"query": "x", "k": 1000}).status_code == 422
    assert client.get("/search", params={"query": ""}).status_code == 422
    assert client.get("/search", params={"query": "x" * 1001}).status_code == 422
    unknown = client.get("/search", params={"query": "x", "model": "/etc"})
    assert unknown.status_code == 404 and "not served" in unknown.json()["detail"]
    too_big = client.post("/search", content=b"x" * (2 << 20), headers={"content-type": "application/json"})
    assert too_big.status_code == 413
    assert client.post("/embed", json={"texts": ["x"] * 65}).status_code == 422


def test_embed_returns_normalised_vectors(client: httpx.Client) -> None:
    body = client.post("/embed", json={"texts": ["Windenergie", "wind energy"]}).json()
    assert body["dim"] == 384 and len(body["vectors"]) == 2
    assert abs(sum(x * x for x in body["vectors"][0]) - 1.0) < 1e-3


def test_upload_needs_the_token(client: httpx.Client) -> None:
    files = {"files": ("a.txt", b"Ein Text.", "text/plain")}
    assert client.post("/documents", files=files).status_code == 401
    wrong = client.post("/documents", files=files, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "token" in wrong.json()["detail"]


def test_upload_name_cannot_escape_the_upload_folder(client: httpx.Client) -> None:
    workspace = Path(client.get("/health").json()["workspace"])
    text = "Traversalschutz: Dateinamen aus Uploads werden bereinigt, bevor sie gespeichert werden."
    files = {"files": ("../../escaped.txt", text.encode(), "text/plain")}
    response = client.post("/documents", files=files, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["saved"] == ["escaped.txt"]
    assert (workspace / "uploads" / "escaped.txt").is_file()
    assert not (workspace.parent / "escaped.txt").exists() and not (workspace.parent.parent / "escaped.txt").exists()


def test_upload_ingests_good_files_and_reports_bad_ones(client: httpx.Client) -> None:
    good = "Der Quantenflusskompensator regelt die Einspeisung kleiner Anlagen in das Verteilnetz."
    files = [("files", ("gut.txt", good.encode(), "text/plain")),
             ("files", ("kaputt.pdf", b"this is not a pdf", "application/pdf"))]
    response = client.post("/documents", files=files, headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ingest"]["files_ingested"] == 1
    assert [s["file"] for s in body["skipped"]] == ["kaputt.pdf"] and body["skipped"][0]["reason"]
    assert body["embedded"][0]["embedded_now"] >= 1
    for mode in ("bm25", "dense"):
        hits = client.get("/search", params={"query": "Quantenflusskompensator", "k": 3, "mode": mode}).json()["hits"]
        assert any(h["source"].endswith("gut.txt") for h in hits), mode


def test_rag_citations_index_into_sources(client: httpx.Client) -> None:
    question = {"question": "Wer legt Mindestabstände zu Wohngebieten fest?", "k": 4, "mode": "bm25"}
    response = client.post("/rag", json=question)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["extractive"] and body["generator"] == "extractive"
    assert body["citations"], body["answer"]
    assert [s["n"] for s in body["sources"]] == list(range(1, len(body["sources"]) + 1))
    for n in body["citations"]:
        assert f"[{n}]" in body["answer"] and 1 <= n <= len(body["sources"])
    assert any("Mindestabstände" in body["sources"][n - 1]["text"] for n in body["citations"]), body


def test_rag_streams_server_sent_events(client: httpx.Client) -> None:
    events: list[tuple[str, object]] = []
    chunks, buffer = 0, ""
    request = {"question": "Was brauchen Anlagen über 50 Meter?", "stream": True}
    with client.stream("POST", "/rag", json=request) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for block in response.iter_text():
            chunks += 1
            *complete, buffer = (buffer + block).split("\n\n")
            for raw in complete:
                lines = dict(line.split(": ", 1) for line in raw.splitlines())
                events.append((lines["event"], json.loads(lines["data"])))
    assert buffer == ""
    names = [name for name, _ in events]
    assert names[0] == "sources" and names[-1] == "done" and names.count("token") >= 3
    assert chunks >= 2
    done = events[-1][1]
    assert isinstance(done, dict) and done["citations"]
    assert "".join(data["text"] for name, data in events if name == "token").strip() == done["answer"]


def test_missing_collection_is_a_409_that_says_what_to_run(tmp_path: Path) -> None:
    from adaptlab.pipeline import Session

    shutil.copytree(FIXTURES / "docs", tmp_path / "docs")
    with Session.open(tmp_path / "ws", tracking_uri="none") as session:
        session.ingest([tmp_path / "docs" / "notes.txt"])
    with running_server(tmp_path / "ws", token=None) as base, httpx.Client(base_url=base, timeout=60) as c:
        response = c.get("/search", params={"query": "Strom", "mode": "dense"})
        assert response.status_code == 409 and "adaptlab embed --model minilm" in response.json()["detail"]
        assert c.get("/search", params={"query": "Strom", "mode": "bm25"}).status_code == 200
        upload = c.post("/documents", files={"files": ("a.txt", b"x", "text/plain")})
        assert upload.status_code == 403  # no token configured: uploads are off
