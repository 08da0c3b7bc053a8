"""The model behind an LLM-written pair or a judge's verdict: a local causal LM or an OpenAI-compatible endpoint.

A spec is `openai:MODEL` (the endpoint from `--base-url` or `$OPENAI_BASE_URL`, the key from the
environment variable `--api-key-env` names), `smollm2-135m` (the packaged model) or a local Hugging Face
causal-LM folder. Both kinds answer a batch of conversations with `complete_many`, greedily.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from adaptlab.llm.openai_client import DEFAULT_KEY_ENV, OpenAIChatClient

OPENAI_PREFIX = "openai:"


class ChatModel(Protocol):
    name: str

    def complete_many(
        self, conversations: list[list[dict[str, str]]], max_tokens: int = 256, progress: Any = None
    ) -> list[str]: ...


class LocalChatModel:
    """A local causal LM (transformers), greedy and batched; `prefill` starts every reply (not a feature
    of chat endpoints, so only local models get it)."""

    def __init__(
        self, name: str, cache_dir: Path | None = None, batch_size: int = 8, prefill: str = ""
    ) -> None:
        from adaptlab.llm.models import load_model
        from adaptlab.llm.templates import ChatTemplate

        self.name = name
        tokenizer, self.model = load_model(name, cache_dir)
        self.template = ChatTemplate("tokenizer" if tokenizer.chat_template else "chatml", tokenizer)
        self.batch_size = batch_size
        self.prefill = prefill

    def complete_many(
        self, conversations: list[list[dict[str, str]]], max_tokens: int = 256, progress: Any = None
    ) -> list[str]:
        from adaptlab.llm.generation import generate_batch

        replies = generate_batch(
            self.model,
            self.template,
            conversations,
            max_tokens,
            self.batch_size,
            progress,
            prefill=self.prefill,
        )
        return [self.prefill + reply for reply in replies]


def load_chat_model(
    spec: str,
    cache_dir: Path | None = None,
    base_url: str | None = None,
    api_key_env: str = DEFAULT_KEY_ENV,
    prefill: str = "",
) -> ChatModel:
    """`openai:MODEL` → the endpoint; anything else → a local model (packaged name or HF folder)."""
    if spec.startswith(OPENAI_PREFIX):
        from adaptlab.errors import AdaptlabError

        model = spec[len(OPENAI_PREFIX) :].strip()
        if not model:
            raise AdaptlabError(f"'{spec}': name the endpoint's model, e.g. openai:gpt-4o-mini")
        return OpenAIChatClient(model, base_url, api_key_env)
    return LocalChatModel(spec, cache_dir, prefill=prefill)
