"""Held-out evaluation: generate greedy answers and score them (EM, token F1, BLEU, ROUGE-L); and, for
preference data, the DPO reward margin of chosen over rejected answers.

The implicit DPO reward of an answer is β·(log π(answer|prompt) − log π_ref(answer|prompt)); the margin is
chosen minus rejected. A LoRA policy's reference is the same model with its adapter switched off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adaptlab.errors import AdaptlabError
from adaptlab.llm.formats import Example, PreferencePair
from adaptlab.llm.generation import generate_batch
from adaptlab.llm.lora_training import read_manifest
from adaptlab.llm.metrics import answer_metrics
from adaptlab.llm.templates import IGNORE_INDEX, ChatTemplate


@dataclass
class AnswerEval:
    """Metrics over a held-out set, with every prediction kept for inspection."""

    model: str
    metrics: dict[str, float]
    predictions: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def resolve_inference(model: str | None, adapter: str | None, template: str | None) -> tuple[str, str]:
    """(base model, template): an adapter's manifest supplies what the user left out."""
    manifest = read_manifest(Path(adapter)) if adapter else {}
    base = model or manifest.get("base_model")
    if base is None:
        raise AdaptlabError("no model: pass --model (or --adapter of a run made by adaptlab llm sft/dpo)")
    return base, template or manifest.get("template") or "tokenizer"


def evaluate_answers(
    model: Any,
    template: ChatTemplate,
    examples: Sequence[Example],
    name: str,
    max_new_tokens: int = 64,
    batch_size: int = 8,
    progress: Any = None,
) -> AnswerEval:
    """Greedy answers to each example's prompt, scored against its reference answer."""
    import time

    start = time.perf_counter()
    predictions = generate_batch(
        model, template, [e.prompt_messages for e in examples], max_new_tokens, batch_size, progress
    )
    references = [e.answer for e in examples]
    rows = [
        {"id": e.id, "prediction": p, "reference": r} for e, p, r in zip(examples, predictions, references)
    ]
    return AnswerEval(name, answer_metrics(predictions, references), rows, time.perf_counter() - start)


def answer_logprobs(
    model: Any,
    template: ChatTemplate,
    prompts: Sequence[list[dict[str, str]]],
    answers: Sequence[str],
    max_length: int = 256,
    batch_size: int = 4,
) -> list[float]:
    """Sum of log-probabilities of each answer's tokens given its prompt (the template's masked tokens)."""
    import torch

    tokenizer = template.tokenizer
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    totals: list[float] = []
    rows = [
        template.tokenize([*p, {"role": "assistant", "content": a}], max_length)
        for p, a in zip(prompts, answers)
    ]
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        width = max(len(r["input_ids"]) for r in batch)
        ids = torch.tensor([r["input_ids"] + [pad] * (width - len(r["input_ids"])) for r in batch])
        mask = torch.tensor([r["attention_mask"] + [0] * (width - len(r["input_ids"])) for r in batch])
        labels = torch.tensor([r["labels"] + [IGNORE_INDEX] * (width - len(r["labels"])) for r in batch])
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        target = labels[:, 1:]
        logp = torch.log_softmax(logits, dim=-1).gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        totals.extend((logp * (target != IGNORE_INDEX)).sum(dim=1).tolist())
    return totals


def preference_margins(
    model: Any,
    template: ChatTemplate,
    pairs: Sequence[PreferencePair],
    beta: float = 0.1,
    max_length: int = 256,
    batch_size: int = 4,
) -> dict[str, float]:
    """Held-out DPO reward margin and accuracy, and the policy's own log-prob margin, averaged over pairs.

    `model` is a peft model: the reference is the same model with its adapter disabled. For a plain model
    (no adapter: the policy *is* the reference) the reward margin is 0 by definition.
    """
    prompts = [p.prompt for p in pairs]
    chosen = answer_logprobs(model, template, prompts, [p.chosen for p in pairs], max_length, batch_size)
    rejected = answer_logprobs(model, template, prompts, [p.rejected for p in pairs], max_length, batch_size)
    if hasattr(model, "disable_adapter"):
        with model.disable_adapter():
            ref_chosen = answer_logprobs(
                model, template, prompts, [p.chosen for p in pairs], max_length, batch_size
            )
            ref_rejected = answer_logprobs(
                model, template, prompts, [p.rejected for p in pairs], max_length, batch_size
            )
    else:
        ref_chosen, ref_rejected = chosen, rejected
    n = len(pairs)
    rewards = [
        beta * ((c - rc) - (r - rr)) for c, r, rc, rr in zip(chosen, rejected, ref_chosen, ref_rejected)
    ]
    return {
        "reward_margin": sum(rewards) / n,
        "reward_accuracy": sum(m > 0 for m in rewards) / n,
        "logp_margin": sum(c - r for c, r in zip(chosen, rejected)) / n,
        "logp_accuracy": sum(c > r for c, r in zip(chosen, rejected)) / n,
        "n": float(n),
    }
