"""Prompt templates and label masking: the loss covers only what the assistant says.

A template turns a conversation into text. Masking works on characters first: rendering the
conversation turn by turn gives, for every assistant turn, the character span of its answer (with the
template's end-of-turn marker, so the model learns to stop); the tokenizer's offset mapping then marks
exactly the tokens overlapping those spans. This is template-agnostic, so the tokenizer's own chat
template is masked as reliably as the built-in ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adaptlab.errors import AdaptlabError

IGNORE_INDEX = -100
TEMPLATES = ("tokenizer", "chatml", "alpaca", "llama2", "phi")
ALPACA_HEADER = (
    "Below is an instruction that describes a task. Write a response that appropriately completes "
    "the request."
)

Messages = list[dict[str, str]]


def _chatml(messages: Messages, add_generation_prompt: bool) -> str:
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")


def _phi(messages: Messages, add_generation_prompt: bool) -> str:
    """Phi-3 format."""
    text = "".join(f"<|{m['role']}|>\n{m['content']}<|end|>\n" for m in messages)
    return text + ("<|assistant|>\n" if add_generation_prompt else "")


def _alpaca(messages: Messages, add_generation_prompt: bool) -> str:
    """Alpaca: the system turn replaces the header; each user turn an instruction, each answer a response."""
    header = next((m["content"] for m in messages if m["role"] == "system"), ALPACA_HEADER)
    text = header + "\n\n"
    for m in messages:
        if m["role"] == "user":
            text += f"### Instruction:\n{m['content']}\n\n### Response:\n"
        elif m["role"] == "assistant":
            text += f"{m['content']}\n\n"
    return text


def _llama2(messages: Messages, add_generation_prompt: bool) -> str:
    """Llama-2 chat: `<s>[INST] <<SYS>>…<</SYS>> user [/INST] answer </s>`; the answer's leading space is its own."""
    system = next((m["content"] for m in messages if m["role"] == "system"), None)
    text, first = "", True
    for m in messages:
        if m["role"] == "user":
            content = f"<<SYS>>\n{system}\n<</SYS>>\n\n{m['content']}" if system and first else m["content"]
            text += f"<s>[INST] {content} [/INST]"
            first = False
        elif m["role"] == "assistant":
            text += f" {m['content']} </s>"
    return text


_BUILTIN: dict[str, Callable[[Messages, bool], str]] = {
    "chatml": _chatml,
    "alpaca": _alpaca,
    "llama2": _llama2,
    "phi": _phi,
}


class ChatTemplate:
    """Renders conversations one way; `tokenizer` uses the tokenizer's own Jinja chat template."""

    def __init__(self, name: str, tokenizer: Any) -> None:
        if name not in TEMPLATES:
            raise AdaptlabError(f"unknown template '{name}'; use one of {', '.join(TEMPLATES)}")
        if name == "tokenizer" and not getattr(tokenizer, "chat_template", None):
            raise AdaptlabError(
                "the tokenizer has no chat template; choose --template chatml, alpaca, llama2 or phi"
            )
        self.name = name
        self.tokenizer = tokenizer

    def render(self, messages: Messages, add_generation_prompt: bool = False) -> str:
        if self.name == "tokenizer":
            return self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=add_generation_prompt
            )
        return _BUILTIN[self.name](messages, add_generation_prompt)

    @property
    def eos(self) -> str:
        """Appended after the last answer when the template's own end marker is not the tokenizer's EOS."""
        return self.tokenizer.eos_token or ""

    def prompt(self, messages: Messages) -> str:
        """The text a model continues to answer the conversation's last user turn."""
        return self.render(messages, add_generation_prompt=True)

    def answer_spans(self, messages: Messages) -> tuple[str, list[tuple[int, int]]]:
        """The whole conversation's text and the character spans of its assistant turns."""
        spans: list[tuple[int, int]] = []
        for index, message in enumerate(messages):
            if message["role"] != "assistant":
                continue
            before = self.render(messages[:index], add_generation_prompt=True)
            upto = self.render(messages[: index + 1])
            if not upto.startswith(before):
                raise AdaptlabError(
                    f"template '{self.name}' renders a prefix of the conversation differently "
                    "from the whole; masking needs a prefix-stable template"
                )
            spans.append((len(before), len(upto)))
        text = self.render(messages)
        if spans and self.eos and self.eos not in text[spans[-1][0] : spans[-1][1]]:
            text = text[: spans[-1][1]] + self.eos + text[spans[-1][1] :]
            spans[-1] = (spans[-1][0], spans[-1][1] + len(self.eos))
        return text, spans

    def tokenize(self, messages: Messages, max_length: int | None = None) -> dict[str, list[int]]:
        """input_ids, attention_mask and labels (IGNORE_INDEX outside the assistant's answers)."""
        text, spans = self.answer_spans(messages)
        encoded = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = list(encoded["input_ids"])
        labels = [IGNORE_INDEX] * len(ids)
        for position, (start, end) in enumerate(encoded["offset_mapping"]):
            if any(start < span_end and end > span_start for span_start, span_end in spans):
                labels[position] = ids[position]
        if max_length is not None:
            ids, labels = ids[:max_length], labels[:max_length]
        return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}
