"""/metrics on the plain server (no registry): requests, latency and errors per endpoint and variant."""

from __future__ import annotations

import re

import pytest

httpx = pytest.importorskip("httpx", reason="needs httpx (the dev extra)")
pytest.importorskip("prometheus_client", reason="needs the serve extra: pip install -e '.[serve]'")

pytestmark = pytest.mark.slow


def _value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_requests_latency_and_errors_are_counted_per_endpoint(served: str) -> None:
    with httpx.Client(base_url=served, timeout=120) as client:
        before = client.get("/metrics").text
        ok = 'adaptlab_requests_total{endpoint="/search",method="GET",status="200",variant="default"}'
        bad = 'adaptlab_request_errors_total{endpoint="/search",kind="client",variant="default"}'
        for _ in range(3):
            assert client.get("/search", params={"query": "Windenergie", "k": 2}).status_code == 200
        assert client.post("/search", json={"query": "Strom", "filter": "lang = = 1"}).status_code == 400
        assert client.get("/search", params={"query": "x", "model": "nope"}).status_code == 404
        assert client.get("/no/such/path").status_code == 404
        response = client.get("/metrics")
    after = response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert _value(after, ok) - _value(before, ok) == 3
    assert _value(after, bad) - _value(before, bad) == 1
    assert (
        'adaptlab_request_errors_total{endpoint="/search",kind="client",variant="none"}' in after
    )  # unknown model: no arm
    assert 'adaptlab_request_latency_seconds_bucket{endpoint="/search",le="0.25",variant="default"}' in after
    assert 'endpoint="unmatched"' in after and "/no/such/path" not in after
