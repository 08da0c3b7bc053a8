"""Who writes the answer: a packaged local LLM (SmolLM2-135M-Instruct or Gemma 3 270M GGUF via
transformers), an OpenAI-compatible endpoint, or the extractive answer, so RAG works on any install and in CI.

Each generator streams text pieces; joining them gives the whole answer. Instruction-tuned models get a
chat prompt asking for [n] citations; base models (Gemma 3 270M) get a completion prompt ending in
"Antwort:" / "Answer:", answer one line, and are given the citation of the source their answer overlaps most.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from adaptlab.errors import AdaptlabError
from adaptlab.models.registry import LLM_ZOO, is_installed, module_available
from adaptlab.rag.answer import EXTRACTIVE, citations_in, extractive_answer
from adaptlab.retrieval.analysis import analyze_query
from adaptlab.retrieval.dense import SearchHit


@dataclass(frozen=True)
class LocalLLM:
    """A packaged GGUF (an `LLM_ZOO` entry) the RAG answers with, and how it is prompted."""

    name: str
    chat: bool
    """True: instruction-tuned, chat template, cites by itself; False: a base model, completion prompt."""


LOCAL_LLMS: dict[str, LocalLLM] = {
    m.name: m for m in (LocalLLM("smollm2-135m", chat=True), LocalLLM("gemma3-270m", chat=False))
}
GENERATOR_CHOICES = ("auto", EXTRACTIVE, *LOCAL_LLMS, "openai")
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


def prompt_messages(
    question: str, sources: Sequence[SearchHit], chars_per_source: int
) -> list[dict[str, str]]:
    """Chat messages: the instruction, then the numbered sources (each cut to `chars_per_source`)."""
    numbered = "\n\n".join(
        f"[{n}] {hit.heading or hit.title}\n{hit.text[:chars_per_source]}" for n, hit in enumerate(sources, 1)
    )
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Sources:\n{numbered}\n\nQuestion: {question}"},
    ]


_LABELS = {"de": ("Quellen", "Frage", "Antwort"), "en": ("Sources", "Question", "Answer")}


def completion_prompt(question: str, sources: Sequence[SearchHit], chars_per_source: int) -> str:
    """A base model's prompt: numbered sources, the question, and the answer's start to continue from.

    Labels follow the question's language (German or English), so the model answers in it.
    """
    from adaptlab.corpus.language import detect_language

    src, q, a = _LABELS["de" if detect_language(question, min_letters=4)[0] == "de" else "en"]
    numbered = "\n\n".join(
        f"[{n}] {hit.heading or hit.title}\n{hit.text[:chars_per_source]}" for n, hit in enumerate(sources, 1)
    )
    return f"{src}:\n{numbered}\n\n{q}: {question}\n{a}:"


def best_overlap(answer: str, sources: Sequence[SearchHit]) -> int | None:
    """The 1-based number of the source sharing the most terms with `answer` (ties: the better-ranked);
    None when it shares none with any. How an answer from a base model, which does not cite, gets cited."""
    langs = {h.lang for h in sources if h.lang} or {"en"}
    terms = set(analyze_query(answer, langs))
    if not terms:
        return None
    overlaps = [len(terms & set(analyze_query(hit.text, langs))) for hit in sources]
    best = max(range(len(overlaps)), key=lambda i: (overlaps[i], -i), default=None)
    return None if best is None or overlaps[best] == 0 else best + 1


class TransformersGGUFGenerator:
    """A packaged GGUF model de-quantised by transformers (chat or completion prompt, see `LocalLLM`);
    one generation at a time (the model is not re-entrant)."""

    extractive = False

    def __init__(
        self,
        name: str,
        tokenizer: Any,
        model: Any,
        chat: bool = True,
        max_new_tokens: int = 160,
        chars_per_source: int = 700,
    ) -> None:
        self.name = name
        self.tokenizer = tokenizer
        self.model = model
        self.chat = chat
        self.max_new_tokens = max_new_tokens
        self.chars_per_source = chars_per_source
        self._lock = threading.Lock()

    @classmethod
    def load(cls, llm: LocalLLM) -> TransformersGGUFGenerator:
        """Load the zoo model; its de-quantised weights are cached in the user model cache after the first
        load (seconds instead of a minute or two), see `adaptlab.llm.models.user_model_cache`."""
        from adaptlab.llm.models import load_model, user_model_cache

        try:
            cache = user_model_cache()
        except OSError:  # a read-only home: load from the GGUF every time
            cache = None
        tokenizer, model = load_model(llm.name, cache)
        return cls(llm.name, tokenizer, model, chat=llm.chat)

    def _inputs(self, messages: list[dict[str, str]] | None, prompt: str | None) -> Any:
        if self.chat:
            return self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
        if prompt is None:  # a chat request (self-query, multi-query) to a base model: plain text
            prompt = "\n\n".join(m["content"] for m in messages or []) + "\n"
        return self.tokenizer(prompt, return_tensors="pt")

    def _settings(self, prompt_tokens: int) -> dict[str, Any]:
        """Chat: a repetition penalty against loops. Base model: none (it must copy from the sources),
        and one line of answer: stop at the first newline after some text instead of inventing more."""
        if self.chat:
            return {"repetition_penalty": 1.2}
        from transformers import StoppingCriteriaList

        return {"stopping_criteria": StoppingCriteriaList([_line_done(self.tokenizer, prompt_tokens)])}

    def stream(self, question: str, sources: Sequence[SearchHit]) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        if self.chat:
            inputs = self._inputs(prompt_messages(question, sources, self.chars_per_source), None)
        else:
            inputs = self._inputs(None, completion_prompt(question, sources, self.chars_per_source))
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = dict(
            **inputs,
            max_new_tokens=self.max_new_tokens,
            do_sample=False,
            streamer=streamer,
            **self._settings(inputs["input_ids"].shape[1]),
        )
        text, line_done = "", False
        with self._lock:
            worker = threading.Thread(target=self.model.generate, kwargs=kwargs, daemon=True)
            worker.start()
            for piece in streamer:  # read to the end, so the worker never blocks on a full queue
                if line_done or not piece:
                    continue
                if not self.chat:
                    piece = piece if text else piece.lstrip()  # the answer may start on the next line
                    if "\n" in piece:  # a token may carry text past the newline
                        piece, line_done = piece.split("\n", 1)[0], True
                text += piece
                if piece:
                    yield piece
            worker.join()
        if not self.chat and text.strip() and not citations_in(text, len(sources)):
            cited = best_overlap(text, sources)
            if cited is not None:
                yield f" [{cited}]"

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 200) -> str:
        """One greedy reply to chat messages (self-query, multi-query); holds the model like `stream`."""
        import torch

        inputs = self._inputs(messages, None)
        with self._lock, torch.inference_mode():
            output = self.model.generate(
                **inputs, max_new_tokens=max_tokens, do_sample=False, repetition_penalty=1.2
            )
        return self.tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)


def _line_done(tokenizer: Any, prompt_tokens: int) -> Any:
    """Stops generation once the answer (leading blank lines skipped) reaches a newline. Decoding the few
    new tokens each step is cheaper than `stop_strings`, which scans Gemma's 262k-token vocabulary per call."""
    import torch
    from transformers import StoppingCriteria

    class LineDone(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            done = [
                "\n" in tokenizer.decode(row[prompt_tokens:], skip_special_tokens=True).lstrip()
                for row in input_ids
            ]
            return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    return LineDone()


def local_llm_available(name: str) -> bool:
    return is_installed(LLM_ZOO[name]) and module_available("gguf")


def smollm2_available() -> bool:
    return local_llm_available("smollm2-135m")


def check_generator(name: str) -> None:
    """Fail fast, before anything loads or a server starts, on an unknown or uninstalled generator."""
    if name.startswith(f"{OPENAI}:") and name[len(OPENAI) + 1 :].strip():
        return
    if name not in GENERATOR_CHOICES:
        raise AdaptlabError(f"unknown generator '{name}'; use one of {', '.join(GENERATOR_CHOICES)}")
    if name in LOCAL_LLMS and not local_llm_available(name):
        spec = LLM_ZOO[name]
        raise AdaptlabError(f"{spec.display_name} is not installed; run: {spec.install}")
    if name == OPENAI:
        from adaptlab.rag.openai_compatible import MODEL_ENV

        if not os.environ.get(MODEL_ENV):
            raise AdaptlabError(f"--generator openai needs a model: set ${MODEL_ENV} or use openai:<model>")


def load_generator(name: str = EXTRACTIVE) -> Generator:
    """`extractive`; `smollm2-135m` or `gemma3-270m` (error if missing); `openai` / `openai:<model>` (an OpenAI-compatible
    endpoint from $OPENAI_BASE_URL, $OPENAI_MODEL, $OPENAI_API_KEY); or `auto`: SmolLM2 when installed, else
    extractive."""
    check_generator(name)
    if name == OPENAI or name.startswith(f"{OPENAI}:"):
        from adaptlab.rag.openai_compatible import OpenAICompatibleGenerator

        return OpenAICompatibleGenerator.from_env(name.partition(":")[2].strip() or None)
    if name == EXTRACTIVE or (name == "auto" and not smollm2_available()):
        return ExtractiveGenerator()
    return TransformersGGUFGenerator.load(LOCAL_LLMS["smollm2-135m" if name == "auto" else name])
