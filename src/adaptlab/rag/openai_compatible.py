"""Answers from any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp server, Ollama, LM Studio …).

Configured by environment, so no key is ever written to a config file or a command line:
`OPENAI_BASE_URL` (default https://api.openai.com/v1), `OPENAI_MODEL` (or `--generator openai:<model>`)
and `OPENAI_API_KEY` (optional: local servers need none). Streaming uses the endpoint's Server-Sent
Events (`data: {chunk}` lines, ended by `data: [DONE]`). Network and HTTP failures become one-line
AdaptlabErrors that name the URL and the status.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

from adaptlab.errors import AdaptlabError
from adaptlab.retrieval.dense import SearchHit

BASE_URL_ENV = "OPENAI_BASE_URL"
MODEL_ENV = "OPENAI_MODEL"
KEY_ENV = "OPENAI_API_KEY"
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAICompatibleGenerator:
    """`/chat/completions` of an endpoint; `stream` yields content deltas, `complete` returns one text."""

    extractive = False
    tokenizer = None
    plans_queries = True
    """Also used for self-query and multi-query rewrites (the packaged 135M models are not: their JSON and
    rewrites are unreliable)."""

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        max_tokens: int = 300,
        chars_per_source: int = 2000,
        temperature: float = 0.0,
    ) -> None:
        import httpx

        self.model = model
        self.name = f"openai:{model}"
        self.base_url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
        key = api_key if api_key is not None else os.environ.get(KEY_ENV)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_s)
        self.max_tokens = max_tokens
        self.chars_per_source = chars_per_source
        self.temperature = temperature

    @classmethod
    def from_env(cls, model: str | None = None) -> OpenAICompatibleGenerator:
        """The endpoint named by the environment; the model from the argument or `OPENAI_MODEL`."""
        model = model or os.environ.get(MODEL_ENV)
        if not model:
            raise AdaptlabError(
                f"no model for the OpenAI-compatible endpoint: set ${MODEL_ENV} or use --generator openai:<model>"
            )
        return cls(model)

    def stream(self, question: str, sources: Sequence[SearchHit]) -> Iterator[str]:
        from adaptlab.rag.generators import prompt_messages

        yield from self.stream_messages(
            prompt_messages(question, sources, self.chars_per_source), self.max_tokens
        )

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 200) -> str:
        """One non-streamed reply (self-query, multi-query)."""
        import httpx

        body = self._body(messages, max_tokens, stream=False)
        try:
            response = self.client.post("/chat/completions", json=body)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        self._check(response.status_code, response.text)
        try:
            return str(response.json()["choices"][0]["message"]["content"] or "")
        except (ValueError, KeyError, IndexError, TypeError):
            raise AdaptlabError(f"{self.base_url}/chat/completions: reply is not a chat completion") from None

    def stream_messages(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        """Content deltas of a streamed completion, as they arrive."""
        import httpx

        body = self._body(messages, max_tokens, stream=True)
        try:
            with self.client.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code >= 400:
                    self._check(response.status_code, response.read().decode("utf-8", "replace"))
                for line in response.iter_lines():
                    piece = _sse_content(line)
                    if piece is None:
                        break
                    if piece:
                        yield piece
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None

    def close(self) -> None:
        self.client.close()

    def _body(self, messages: list[dict[str, str]], max_tokens: int, stream: bool) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": self.temperature,
            "stream": stream,
        }

    def _check(self, status: int, text: str) -> None:
        if status >= 400:
            detail = " ".join(text.split())[:200]
            raise AdaptlabError(f"{self.base_url}/chat/completions answered HTTP {status}: {detail}")

    def _unreachable(self, exc: Exception) -> AdaptlabError:
        return AdaptlabError(
            f"cannot reach {self.base_url}/chat/completions: {type(exc).__name__} {exc}".strip()
        )


def _sse_content(line: str) -> str | None:
    """The content delta of one SSE line; '' for lines without content, None at `[DONE]`."""
    if not line.startswith("data:"):
        return ""
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        choices = json.loads(data).get("choices") or [{}]
    except (ValueError, AttributeError):
        return ""
    return str((choices[0].get("delta") or {}).get("content") or "")
