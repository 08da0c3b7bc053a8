"""The OpenAI-compatible generator against a real HTTP server on loopback that speaks /v1/chat/completions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="needs the serve extra: pip install -e '.[serve]'")

from adaptlab.errors import AdaptlabError  # noqa: E402
from adaptlab.rag.ask import make_answer  # noqa: E402
from adaptlab.rag.generators import load_generator  # noqa: E402
from adaptlab.retrieval.dense import SearchHit  # noqa: E402
from adaptlab.retrieval.expansion import QueryExpander  # noqa: E402
from adaptlab.retrieval.query_plan import QueryTools, plan_query  # noqa: E402
from adaptlab.retrieval.self_query import Facets, llm_self_query  # noqa: E402

KEY = "sk-loopback"
REPLY = "Die Länder legen die Abstände fest [2]."
FILTERS = {
    "query": "Abstände",
    "law": "BImSchG",
    "lang": None,
    "technology": None,
    "year_from": None,
    "year_to": None,
}


def chat_server() -> tuple[Any, list[dict[str, Any]]]:
    """A minimal chat-completions endpoint: checks the key, streams SSE chunks or answers JSON."""
    from fastapi import FastAPI, Header, HTTPException
    from fastapi.responses import StreamingResponse

    app = FastAPI()
    seen: list[dict[str, Any]] = []

    @app.post("/v1/chat/completions")
    def completions(body: dict[str, Any], authorization: str | None = Header(None)) -> Any:
        seen.append({"body": body, "authorization": authorization})
        if authorization != f"Bearer {KEY}":
            raise HTTPException(401, "invalid api key")
        system = body["messages"][0]["content"]
        text = json.dumps(FILTERS) if system.startswith("Extract search filters") else REPLY
        if not body.get("stream"):
            return {
                "id": "x",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
            }

        def events() -> Iterator[str]:
            yield 'data: {"choices": [{"index": 0, "delta": {"role": "assistant"}}]}\n\n'
            for word in text.split(" "):
                chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
                yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app, seen


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    from integration.serve_server import serving

    app, seen = chat_server()
    with serving(app, start_timeout=30) as url:
        yield f"{url}/v1", seen


SOURCES = [
    SearchHit(
        1, 0.9, "c1", "Anlagen brauchen eine Genehmigung.", "§ 4", "BImSchG", "/d/a.md", None, "de", {}
    ),
    SearchHit(
        2, 0.8, "c2", "Die Länder legen Mindestabstände fest.", "Abstände", "Wind", "/d/b.md", None, "de", {}
    ),
]


def test_streams_an_answer_with_citations(
    endpoint: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, seen = endpoint
    monkeypatch.setenv("OPENAI_BASE_URL", base)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    generator = load_generator("openai:tiny-chat")
    pieces = list(generator.stream("Wer legt Abstände fest?", SOURCES))
    assert len(pieces) > 3  # streamed piece by piece, not one block
    answer = make_answer("Wer legt Abstände fest?", "".join(pieces), SOURCES, generator)
    assert answer.text == REPLY and answer.citations == [2] and answer.generator == "openai:tiny-chat"
    request = seen[-1]
    assert request["authorization"] == f"Bearer {KEY}"
    assert request["body"]["model"] == "tiny-chat" and request["body"]["stream"] is True
    assert "[2] Abstände\nDie Länder legen Mindestabstände fest." in request["body"]["messages"][1]["content"]


def test_complete_feeds_llm_self_query(
    endpoint: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = endpoint
    monkeypatch.setenv("OPENAI_BASE_URL", base)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_MODEL", "tiny-chat")
    generator = load_generator("openai")
    facets = Facets([("de", "BImSchG", None, None), ("de", "KSG", None, None)])
    found = llm_self_query("Welche Abstände verlangt das Immissionsschutzrecht?", facets, generator)
    assert (found.method, found.query, found.filter) == (
        "llm:openai:tiny-chat",
        "Abstände",
        'law == "BImSchG"',
    )
    plan = plan_query("Abstände?", QueryTools(facets, QueryExpander(), generator), expand=True)
    assert plan.rewrites == [REPLY]  # the endpoint's rewrite, searched alongside and fused by RRF


def test_endpoint_errors_are_one_line(
    endpoint: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from integration.serve_server import free_port

    base, _ = endpoint
    monkeypatch.setenv("OPENAI_BASE_URL", base)
    monkeypatch.setenv("OPENAI_API_KEY", "wrong")
    with pytest.raises(AdaptlabError, match=r"answered HTTP 401: .*invalid api key"):
        list(load_generator("openai:tiny-chat").stream("Frage?", SOURCES))
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(AdaptlabError, match="cannot reach"):
        load_generator("openai:tiny-chat").complete([{"role": "user", "content": "hi"}])
    monkeypatch.delenv("OPENAI_MODEL", raising=False)
    with pytest.raises(AdaptlabError, match="OPENAI_MODEL"):
        load_generator("openai")
