"""Self-query and expansion end to end: a workspace of two laws, the CLI, and the HTTP API's request fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli

pytestmark = pytest.mark.slow

LAW = """---
jurabk: {abbr}
---

# {name}

## § 1 Begriffsbestimmungen

Im Sinne dieses Gesetzes ist {definition}

## § 2 Meldung

Der Betreiber einer Anlage meldet die Anlage beim {office}.
"""


def write_laws(folder: Path) -> Path:
    folder.mkdir()
    (folder / "ksg.md").write_text(
        LAW.format(
            abbr="KSG",
            name="Klimaschutzgesetz",
            office="Umweltbundesamt",
            definition="Treibhausgas jedes Gas, das zur Erwärmung beiträgt.",
        ),
        encoding="utf-8",
    )
    (folder / "enwg.md").write_text(
        LAW.format(
            abbr="EnWG 2005",
            name="Energiewirtschaftsgesetz",
            office="Netzbetreiber",
            definition="Netzbetreiber, wer ein Netz der Versorgung betreibt.",
        ),
        encoding="utf-8",
    )
    return folder


def test_search_reads_the_law_from_the_question_and_splits_compounds(tmp_path: Path, workspace: Path) -> None:
    from adaptlab.pipeline import Session

    with Session.open(workspace, tracking_uri="none") as session:
        session.ingest([write_laws(tmp_path / "laws")])

        def laws(query: str, **options: bool) -> list[str]:
            return [h.metadata["law"] for h in session.search(query, k=4, mode="bm25", **options)]

        assert set(laws("Begriffsbestimmungen im KSG")) == {"KSG", "EnWG 2005"}  # the heading is in both laws
        assert set(laws("Begriffsbestimmungen im KSG", self_query=True)) == {"KSG"}
        assert set(laws("Begriffsbestimmungen im EEG", self_query=True)) == {
            "KSG",
            "EnWG 2005",
        }  # no EEG: no filter
        plain = session.search("Pflichten der Anlagenbetreiber", k=2, mode="bm25")  # BM25 splits the compound
        assert plain and all(h.heading.endswith("§ 2 Meldung") for h in plain)
        expanded = session.search("Pflichten der Anlagenbetreiber", k=2, mode="bm25", expand=True)
        assert expanded and all(h.heading.endswith("§ 2 Meldung") for h in expanded)
    result = run_cli(
        "search", "Begriffsbestimmungen im KSG", "--mode", "bm25", "--self-query", "--expand", "--json"
    )
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert hits and {h["metadata"]["law"] for h in hits} == {"KSG"}
    assert hits[0]["heading"].endswith("§ 1 Begriffsbestimmungen")


def test_api_accepts_self_query_and_expand(served: str) -> None:
    httpx = pytest.importorskip("httpx")
    with httpx.Client(base_url=served, timeout=120) as client:
        body = {
            "query": "Genehmigung für Windenergieanlagen seit 2020",
            "k": 3,
            "mode": "hybrid",
            "self_query": True,
            "expand": True,
        }
        response = client.post("/search", json=body)
        assert response.status_code == 200, response.text
        assert response.json()["hits"]  # no date field in the fixtures: the year is not a filter
        rag = client.post(
            "/rag",
            json={
                "question": "Wer legt Mindestabstände fest?",
                "mode": "bm25",
                "self_query": True,
                "expand": True,
                "context_tokens": 200,
            },
        )
        assert rag.status_code == 200, rag.text
        assert rag.json()["citations"] and len(rag.json()["sources"]) >= 1
        assert client.post("/rag", json={"question": "x", "context_tokens": 5}).status_code == 422
