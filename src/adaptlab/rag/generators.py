"""Who writes the answer: a packaged local LLM (SmolLM2-135M-Instruct GGUF via transformers) or, when
none is installed, the extractive answer, so RAG works on any install and in CI.

Each generator streams text pieces; joining them gives the whole answer.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from adaptlab.errors import AdaptlabError
from adaptlab.llm.models import smollm2_gguf
from adaptlab.models.registry import LLM_ZOO, is_installed, module_available
from adaptlab.rag.answer import EXTRACTIVE, extractive_answer
from adaptlab.retrieval.dense import SearchHit

GENERATOR_CHOICES = ("auto", EXTRACTIVE, "smollm2-135m", "openai")
OPENAI = "openai"
"""An OpenAI-compatible endpoint from the environment (rag.openai_compatible); `openai:<model>` names the model."""
SYSTEM_PROMPT = (
    "You answer questions using only the numbered sources. Cite every fact with its source number in "
    "square brackets, like [1] or [2]. If the sources do not contain the answer, say so. Answer in the "
    "language of the question, in at most three sentences."
)


class Generator(Protocol):
    name: str
    extractive: bool

    def stream(self, question: str, sources: Sequence[SearchHit]) -> Iterator[str]: ...


class ExtractiveGenerator:
    """The best-matching sentences of the top chunks with their citations; instant and deterministic."""

    name = EXTRACTIVE
    extractive = True

    def __init__(self, max_sentences: int = 3) -> None:
        self.max_sentences = max_sentences

    def stream(self, question: str, sources: Sequence[SearchHit]) -> Iterator[str]:
        text = extractive_answer(question, sources, self.max_sentences)
        if not text:
            yield "The sources contain no sentence to answer from."
            return
        for piece in text.split(" "):  # word by word, so a client sees a stream as with an LLM
            yield piece + " "


def prompt_messages(question: str, sources: Sequence[SearchHit], chars_per_source: int) -> list[dict[str, str]]:
    """Chat messages: the instruction, then the numbered sources (each cut to `chars_per_source`)."""
    numbered = "\n\n".join(
        f"[{n}] {hit.heading or hit.title}\n{hit.text[:chars_per_source]}" for n, hit in enumerate(sources, 1)
    )
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Sources:\n{numbered}\n\nQuestion: {question}"},
    ]


class TransformersGGUFGenerator:
    """A GGUF chat model de-quantized by transformers; one generation at a time (the model is not re-entrant)."""

    extractive = False

    def __init__(self, name: str, folder: Path, gguf_file: str, max_new_tokens: int = 160,
                 chars_per_source: int = 700) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = name
        self.tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file)
        self.model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_file)
        self.model.eval()
        self.max_new_tokens = max_new_tokens
        self.chars_per_source = chars_per_source
        self._lock = threading.Lock()

    def stream(self, question: str, sources: Sequence[SearchHit]) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        messages = prompt_messages(question, sources, self.chars_per_source)
        inputs = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = dict(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False, streamer=streamer,
                      repetition_penalty=1.2)
        with self._lock:
            worker = threading.Thread(target=self.model.generate, kwargs=kwargs, daemon=True)
            worker.start()
            yield from (piece for piece in streamer if piece)
            worker.join()

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 200) -> str:
        """One greedy reply to chat messages (self-query, multi-query); holds the model like `stream`."""
        import torch

        inputs = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        with self._lock, torch.inference_mode():
            output = self.model.generate(**inputs, max_new_tokens=max_tokens, do_sample=False, repetition_penalty=1.2)
        return self.tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


def smollm2_available() -> bool:
    return is_installed(LLM_ZOO["smollm2-135m"]) and module_available("gguf")


def check_generator(name: str) -> None:
    """Fail fast, before anything loads or a server starts, on an unknown or uninstalled generator."""
    if name.startswith(f"{OPENAI}:") and name[len(OPENAI) + 1:].strip():
        return
    if name not in GENERATOR_CHOICES:
        raise AdaptlabError(f"unknown generator '{name}'; use one of {', '.join(GENERATOR_CHOICES)}")
    if name == "smollm2-135m" and not smollm2_available():
        spec = LLM_ZOO["smollm2-135m"]
        raise AdaptlabError(f"{spec.display_name} is not installed; run: {spec.install}")
    if name == OPENAI:
        from adaptlab.rag.openai_compatible import MODEL_ENV

        if not os.environ.get(MODEL_ENV):
            raise AdaptlabError(f"--generator openai needs a model: set ${MODEL_ENV} or use openai:<model>")


def load_generator(name: str = EXTRACTIVE) -> Generator:
    """`extractive`; `smollm2-135m` (error if missing); `openai` / `openai:<model>` (an OpenAI-compatible
    endpoint from $OPENAI_BASE_URL, $OPENAI_MODEL, $OPENAI_API_KEY); or `auto`: SmolLM2 when installed, else
    extractive."""
    check_generator(name)
    if name == OPENAI or name.startswith(f"{OPENAI}:"):
        from adaptlab.rag.openai_compatible import OpenAICompatibleGenerator

        return OpenAICompatibleGenerator.from_env(name.partition(":")[2].strip() or None)
    if name == EXTRACTIVE or (name == "auto" and not smollm2_available()):
        return ExtractiveGenerator()
    folder, gguf_file = smollm2_gguf()
    return TransformersGGUFGenerator(LLM_ZOO["smollm2-135m"].name, folder, gguf_file)
