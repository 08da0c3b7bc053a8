"""A small non-streaming client for any OpenAI-compatible `/v1/chat/completions` endpoint.

Used by the LLM-written pair generator and the LLM judge (OpenAI, vLLM, llama.cpp server, Ollama, LM
Studio …). The key is read from an environment variable (named by the caller, `OPENAI_API_KEY` by
default) so it never sits in a config file or on a command line. Network and HTTP failures become
one-line AdaptlabErrors naming the URL and the status.
"""

from __future__ import annotations

import os
from typing import Any

from adaptlab.errors import AdaptlabError

BASE_URL_ENV = "OPENAI_BASE_URL"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIChatClient:
    """`complete(messages)` → the assistant's reply text, one POST per call."""

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key_env: str = DEFAULT_KEY_ENV,
        timeout_s: float = 120.0,
        temperature: float = 0.0,
    ) -> None:
        import httpx

        self.model = model
        self.name = f"openai:{model}"
        self.base_url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
        key = os.environ.get(api_key_env)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.temperature = temperature
        self.client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_s)

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 256) -> str:
        import httpx

        url = f"{self.base_url}/chat/completions"
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": self.temperature,
            "stream": False,
        }
        try:
            response = self.client.post("/chat/completions", json=body)
        except httpx.HTTPError as exc:
            raise AdaptlabError(f"cannot reach {url}: {type(exc).__name__} {exc}".strip()) from None
        if response.status_code >= 400:
            detail = " ".join(response.text.split())[:200]
            raise AdaptlabError(f"{url} answered HTTP {response.status_code}: {detail}")
        try:
            return str(response.json()["choices"][0]["message"]["content"] or "")
        except (ValueError, KeyError, IndexError, TypeError):
            raise AdaptlabError(f"{url}: the reply is not a chat completion") from None

    def complete_many(
        self, conversations: list[list[dict[str, str]]], max_tokens: int = 256, progress: Any = None
    ) -> list[str]:
        replies = []
        for conversation in conversations:
            replies.append(self.complete(conversation, max_tokens))
            if progress is not None:
                progress(1)
        return replies

    def close(self) -> None:
        self.client.close()
