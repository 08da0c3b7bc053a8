"""Trainer options: e5-style prompts per column, a frozen token embedding matrix, a teacher of the same width."""

from __future__ import annotations

from types import SimpleNamespace

from adaptlab.train.finetune_trainer import column_prompts


def test_e5_style_prompts_go_to_query_and_document_columns() -> None:
    e5 = SimpleNamespace(prompts={"query": "query: ", "document": "passage: "})
    assert column_prompts(e5, ["anchor", "positive"]) == {"anchor": "query: ", "positive": "passage: "}
    assert column_prompts(e5, ["anchor", "positive", "negative"])["negative"] == "passage: "


def test_models_without_prompts_train_on_raw_text() -> None:
    assert column_prompts(SimpleNamespace(prompts={}), ["anchor", "positive"]) is None
    assert column_prompts(SimpleNamespace(), ["anchor", "positive"]) is None
    assert column_prompts(SimpleNamespace(prompts={"query": "", "document": ""}), ["anchor"]) is None


def test_freezing_token_embeddings_leaves_the_rest_trainable() -> None:
    import torch
    from transformers import BertConfig, BertModel

    from adaptlab.train.finetune_trainer import freeze_token_embeddings

    bert = BertModel(BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                intermediate_size=16))
    model = [SimpleNamespace(auto_model=bert)]
    assert freeze_token_embeddings(model) == 50 * 8
    trainable = {name for name, p in bert.named_parameters() if p.requires_grad}
    assert "embeddings.word_embeddings.weight" not in trainable
    assert "encoder.layer.0.attention.self.query.weight" in trainable
    assert isinstance(bert.get_input_embeddings().weight, torch.nn.Parameter)
    assert freeze_token_embeddings([SimpleNamespace()]) == 0


def test_a_teacher_of_another_width_is_a_clear_error() -> None:
    import pytest

    from adaptlab.errors import AdaptlabError
    from adaptlab.train.finetune_stage import _check_same_width

    def width(n: int) -> SimpleNamespace:
        return SimpleNamespace(get_embedding_dimension=lambda: n)

    _check_same_width(width(384), width(384), "e5-small-trainable", "minilm")
    with pytest.raises(AdaptlabError, match=r"^teacher: mpnet embeds into 768 dimensions but the base e5"):
        _check_same_width(width(384), width(768), "e5-small-trainable", "mpnet")
