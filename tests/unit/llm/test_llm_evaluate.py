"""Scoring on a tiny real Llama: batching must not change log-probs or greedy answers; margins are DPO's."""

from __future__ import annotations

from pathlib import Path

import pytest
from llm_tiny_models import llm_root_fixture, tiny_llama_fixture  # noqa: F401

from adaptlab.errors import AdaptlabError
from adaptlab.llm.evaluate import answer_logprobs, preference_margins
from adaptlab.llm.formats import PreferencePair
from adaptlab.llm.generation import generate_batch
from adaptlab.llm.models import load_model, resolve_model
from adaptlab.llm.templates import ChatTemplate

pytestmark = pytest.mark.slow  # a real tokenizer / model load each (seconds on 2 cores)

PROMPTS = [
    [{"role": "user", "content": "Was regelt § 3 KSG?"}],
    [{"role": "user", "content": "Hi"}],
    [{"role": "user", "content": "What is a heat pump? Explain the difference between power and energy."}],
]
ANSWERS = ["Die Treibhausgasemissionen werden gemindert.", "Hallo", "Energy is power over time."]


@pytest.fixture(scope="module")
def tiny(tiny_llama: Path):
    tokenizer, model = load_model(str(tiny_llama))
    return ChatTemplate("tokenizer", tokenizer), model


def test_batched_logprobs_equal_one_by_one(tiny) -> None:
    template, model = tiny
    batched = answer_logprobs(model, template, PROMPTS, ANSWERS, batch_size=3)
    single = [answer_logprobs(model, template, [p], [a], batch_size=1)[0] for p, a in zip(PROMPTS, ANSWERS)]
    assert batched == pytest.approx(single, abs=1e-3)
    assert all(value < 0 for value in batched)


def test_left_padded_batches_generate_what_single_prompts_do(tiny) -> None:
    template, model = tiny
    batched = generate_batch(model, template, PROMPTS, max_new_tokens=5, batch_size=3)
    single = [generate_batch(model, template, [p], max_new_tokens=5, batch_size=1)[0] for p in PROMPTS]
    assert batched == single


def test_reward_margin_is_zero_for_the_reference_and_dpo_for_an_adapter(tiny) -> None:
    from peft import LoraConfig, get_peft_model

    template, model = tiny
    pairs = [PreferencePair(p, a, ANSWERS[(i + 1) % 3]) for i, (p, a) in enumerate(zip(PROMPTS, ANSWERS))]
    plain = preference_margins(model, template, pairs, beta=0.1)
    chosen = answer_logprobs(model, template, PROMPTS, ANSWERS)
    rejected = answer_logprobs(model, template, PROMPTS, [p.rejected for p in pairs])
    assert plain["reward_margin"] == 0.0
    assert plain["logp_margin"] == pytest.approx(sum(c - r for c, r in zip(chosen, rejected)) / 3, abs=1e-3)
    policy = get_peft_model(
        model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    tuned = preference_margins(policy, template, pairs, beta=0.5)
    new_c = answer_logprobs(policy, template, PROMPTS, ANSWERS)
    new_r = answer_logprobs(policy, template, PROMPTS, [p.rejected for p in pairs])
    expected = sum(0.5 * ((c - c0) - (r - r0)) for c, r, c0, r0 in zip(new_c, new_r, chosen, rejected)) / 3
    assert tuned["reward_margin"] == pytest.approx(expected, abs=1e-3) and tuned["reward_margin"] != 0.0
    policy.unload()


def test_model_names_resolve_or_fail_in_one_line(tmp_path: Path, tiny_llama: Path) -> None:
    assert resolve_model(str(tiny_llama)).folder == tiny_llama
    with pytest.raises(AdaptlabError, match="unknown model 'gpt-5'"):
        resolve_model("gpt-5")
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(AdaptlabError, match="is a LoRA adapter; merge it first"):
        resolve_model(str(adapter))
