"""Batches from one document: every row at most once, no repeated text or chunk in a batch, fresh each epoch."""

from __future__ import annotations

import random

import pytest

from adaptlab.train.document_batches import DocumentBatchSampler, document_batches, row_keys


def _rows(docs: dict[str, int]) -> tuple[list[str], list[set[str]]]:
    groups = [doc for doc, count in docs.items() for _ in range(count)]
    keys = [{f"q{i}", f"p{i}"} for i in range(len(groups))]
    return groups, keys


def test_each_batch_comes_from_one_document_when_documents_fill_whole_batches() -> None:
    groups, keys = _rows({"a": 8, "b": 12, "c": 4})
    batches = document_batches(groups, keys, 4, True, random.Random(0))
    assert sorted(i for b in batches for i in b) == list(range(24))
    assert all(len({groups[i] for i in b}) == 1 for b in batches)


def test_a_short_document_shares_a_batch_and_no_row_is_lost_without_drop_last() -> None:
    groups, keys = _rows({"a": 5, "b": 2, "c": 3})
    batches = document_batches(groups, keys, 4, False, random.Random(1))
    assert sorted(i for b in batches for i in b) == list(range(10))
    assert all(len(b) <= 4 for b in batches) and sum(len(b) < 4 for b in batches) == 1
    dropped = document_batches(groups, keys, 4, True, random.Random(1))
    assert all(len(b) == 4 for b in dropped) and len(dropped) == 2


def test_a_repeated_text_or_chunk_never_shares_a_batch() -> None:
    groups = ["a"] * 8
    keys = [row_keys({"anchor": f"q{i}", "positive": f"p{i}", "negative": f"p{(i + 1) % 8}"}, f"c{i // 2}")
            for i in range(8)]
    for seed in range(20):
        batches = document_batches(groups, keys, 3, False, random.Random(seed))
        assert sorted(i for b in batches for i in b) == list(range(8))
        for batch in batches:
            seen = [key for i in batch for key in keys[i]]
            assert len(seen) == len(set(seen)), (seed, batch)


def test_row_keys_are_its_texts_and_its_chunk() -> None:
    assert row_keys({"anchor": "q", "positive": "p"}, "c1") == {"q", "p", "\0chunk:c1"}
    assert row_keys({"anchor": "q", "positive": "q"}, "") == {"q"}


def test_the_sampler_reshuffles_each_epoch_and_checks_its_groups() -> None:
    from datasets import Dataset

    data = Dataset.from_dict({"anchor": [f"q{i}" for i in range(16)], "positive": [f"p{i}" for i in range(16)]})
    groups = ["a"] * 8 + ["b"] * 8
    sampler = DocumentBatchSampler(data, 4, True, groups=groups, chunk_ids=[""] * 16, seed=3)
    first = list(sampler)
    assert len(sampler) == len(first) == 4 and first == list(sampler)  # same epoch, same batches
    sampler.set_epoch(1)
    assert list(sampler) != first and all(len({groups[i] for i in b}) == 1 for b in sampler)
    with pytest.raises(ValueError, match="2 groups and 16 chunk ids for 16 rows"):
        DocumentBatchSampler(data, 4, True, groups=["a", "b"], chunk_ids=[""] * 16)


def test_document_batches_need_a_full_fine_tune_on_pairs() -> None:
    from adaptlab.train.finetune_config import FinetuneConfig

    assert FinetuneConfig(batches="document").batches == "document"
    with pytest.raises(ValueError, match="batches: document batches group the training pairs"):
        FinetuneConfig(method="adapter", batches="document")
    with pytest.raises(ValueError, match="batches: document"):
        FinetuneConfig(objective="distill-parallel", batches="document")
