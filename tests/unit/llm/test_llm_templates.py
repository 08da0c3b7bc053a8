"""Label masking checked on the real SmolLM2 tokenizer: exactly the answer (and its end marker) is learned."""

from __future__ import annotations

import pytest
from llm_tiny_models import llm_root_fixture, smol_tokenizer_dir_fixture, smol_tokenizer_fixture  # noqa: F401

from adaptlab.errors import AdaptlabError
from adaptlab.llm.templates import IGNORE_INDEX, TEMPLATES, ChatTemplate

pytestmark = pytest.mark.slow  # a real tokenizer / model load each (seconds on 2 cores)

QA = [
    {"role": "user", "content": "Was regelt § 3 KSG?"},
    {"role": "assistant", "content": "Die Treibhausgasemissionen werden gemindert."},
]
END = {
    "tokenizer": "<|im_end|>\n",
    "chatml": "<|im_end|>\n",
    "alpaca": "\n\n<|im_end|>",
    "llama2": " </s><|im_end|>",
    "phi": "<|end|>\n<|im_end|>",
}


def _learned(tokenizer, row: dict) -> str:
    return tokenizer.decode([t for t, label in zip(row["input_ids"], row["labels"]) if label != IGNORE_INDEX])


@pytest.mark.parametrize("name", TEMPLATES)
def test_only_the_answer_and_its_end_marker_carry_loss(smol_tokenizer, name: str) -> None:
    template = ChatTemplate(name, smol_tokenizer)
    row = template.tokenize(QA)
    lead = " " if name == "llama2" else ""
    assert _learned(smol_tokenizer, row) == lead + QA[1]["content"] + END[name]
    first = row["labels"].index(next(label for label in row["labels"] if label != IGNORE_INDEX))
    prompt_ids = row["input_ids"][:first]
    assert all(label == IGNORE_INDEX for label in row["labels"][:first])
    # what the model is prompted with at inference is exactly the masked prefix
    assert smol_tokenizer.decode(prompt_ids) == template.prompt(QA[:1]).rstrip(" ")
    assert row["labels"][first:] == row["input_ids"][first:]


def test_tokenizer_template_is_the_models_own_chat_format(smol_tokenizer) -> None:
    text, spans = ChatTemplate("tokenizer", smol_tokenizer).answer_spans(QA)
    assert text == smol_tokenizer.apply_chat_template(QA, tokenize=False)
    assert text.startswith("<|im_start|>system\n") and len(spans) == 1


def test_every_assistant_turn_of_a_conversation_is_learned(smol_tokenizer) -> None:
    chat = [
        {"role": "system", "content": "Antworte kurz."},
        {"role": "user", "content": "Hallo"},
        {"role": "assistant", "content": "Guten Tag."},
        {"role": "user", "content": "Und?"},
        {"role": "assistant", "content": "Alles gut."},
    ]
    row = ChatTemplate("chatml", smol_tokenizer).tokenize(chat)
    assert _learned(smol_tokenizer, row) == "Guten Tag.<|im_end|>\nAlles gut.<|im_end|>\n"


def test_truncation_keeps_labels_aligned(smol_tokenizer) -> None:
    row = ChatTemplate("chatml", smol_tokenizer).tokenize(QA, max_length=12)
    assert len(row["input_ids"]) == len(row["labels"]) == len(row["attention_mask"]) == 12


def test_unknown_template_is_a_clear_error(smol_tokenizer) -> None:
    with pytest.raises(AdaptlabError, match="unknown template 'vicuna'"):
        ChatTemplate("vicuna", smol_tokenizer)
