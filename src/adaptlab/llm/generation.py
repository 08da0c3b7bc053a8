"""Generating answers: greedy batches for evaluation and jsonl files, and a streaming multi-turn chat."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from adaptlab.llm.templates import ChatTemplate, Messages


def generate_batch(
    model: Any,
    template: ChatTemplate,
    conversations: Sequence[Messages],
    max_new_tokens: int = 64,
    batch_size: int = 8,
    progress: Any = None,
    max_prompt_tokens: int | None = None,
    prefill: str = "",
) -> list[str]:
    """Greedy answers to each conversation's last user turn, batched with left padding (deterministic).

    `prefill` starts the assistant's turn (e.g. '{"' to steer a small model into JSON); it is not returned.
    """
    import torch

    tokenizer = template.tokenizer
    tokenizer.padding_side = "left"
    answers: list[str] = []
    for start in range(0, len(conversations), batch_size):
        prompts = [template.prompt(c) + prefill for c in conversations[start : start + batch_size]]
        enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        if max_prompt_tokens is not None and enc["input_ids"].shape[1] > max_prompt_tokens:
            enc = {
                k: v[:, -max_prompt_tokens:] for k, v in enc.items()
            }  # keep the question, drop old context
        with torch.no_grad():
            out = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                num_beams=1,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        new = out[:, enc["input_ids"].shape[1] :]
        answers.extend(text.strip() for text in tokenizer.batch_decode(new, skip_special_tokens=True))
        if progress is not None:
            progress(len(prompts))
    return answers


def stream_reply(
    model: Any, template: ChatTemplate, history: Messages, max_new_tokens: int = 200, temperature: float = 0.0
) -> Iterator[str]:
    """The assistant's next turn as text pieces, as they are generated."""
    from transformers import TextIteratorStreamer

    tokenizer = template.tokenizer
    enc = tokenizer(template.prompt(history), return_tensors="pt", add_special_tokens=False)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
    kwargs = dict(
        **enc,
        max_new_tokens=max_new_tokens,
        streamer=streamer,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        repetition_penalty=1.1,
        **sampling,
    )
    worker = threading.Thread(target=model.generate, kwargs=kwargs, daemon=True)
    worker.start()
    yield from (piece for piece in streamer if piece)
    worker.join()
