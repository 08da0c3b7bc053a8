"""Hard negatives mined with the model being trained: never the positive, false negatives skipped, no pair
lost, cached."""

from __future__ import annotations

from pathlib import Path

import pytest

from adaptlab.models.registry import get_spec
from adaptlab.models.resolve import sentence_transformers_dir
from adaptlab.train.finetune_trainer import column_prompts, pairs_dataset
from adaptlab.train.hard_negatives import labelled_columns, mine_negatives, negative_cache, negative_pool
from adaptlab.train.pairs import Pair

PASSAGES = [
    "Wind turbines convert the kinetic energy of wind into electricity.",
    "Offshore wind farms are built in the sea where winds are stronger.",
    "Solar panels turn sunlight into electric current with photovoltaic cells.",
    "Batteries store electrical energy chemically for later use.",
    "Heat pumps move heat from outside air into a building.",
    "Hydropower plants use falling water to drive turbines.",
    "A transformer changes the voltage of alternating current.",
    "The grid operator balances supply and demand every second.",
]
PAIRS = [Pair("How do wind turbines make power?", PASSAGES[0], "d0", "heading"),
         Pair("How does solar power work?", PASSAGES[2], "d2", "heading"),
         Pair("What stores electricity?", PASSAGES[3], "d3", "heading")]


@pytest.fixture(scope="module")
def minilm(tmp_path_factory: pytest.TempPathFactory) -> object:
    from sentence_transformers import SentenceTransformer

    folder = sentence_transformers_dir(get_spec("minilm"), tmp_path_factory.mktemp("models"))
    return SentenceTransformer(str(folder), device="cpu", local_files_only=True)


def test_pool_leaves_out_held_out_documents_and_keeps_positives() -> None:
    chunks = [("d0", PASSAGES[0]), ("held", "A held-out passage."), ("d5", PASSAGES[5]), ("d5", "  ")]
    pool = negative_pool(chunks, PAIRS, {"held"}, None, 0)
    assert "A held-out passage." not in pool and PASSAGES[5] in pool and PASSAGES[2] in pool
    assert len(pool) == len(set(pool)) and "" not in pool


def test_mined_negatives_are_confusable_passages_never_the_positive(minilm: object, tmp_path: Path) -> None:
    mined, topped_up = mine_negatives(minilm, PAIRS, PASSAGES, 2, 0.05, 8, tmp_path / "cache")
    assert topped_up == 0 and len(mined) == 3
    for pair in mined:
        assert len(pair.negatives) == 2 and pair.positive not in pair.negatives
    wind = next(p for p in mined if p.doc_id == "d0")
    assert PASSAGES[1] in wind.negatives  # the other wind passage is the confusable one
    assert list((tmp_path / "cache").glob("corpus_embeddings_*.npy"))  # a re-run does not encode again
    data = pairs_dataset(mined)
    assert data.column_names == ["anchor", "positive", "negative", "negative_2"]
    assert column_prompts(type("E5", (), {"prompts": {"query": "query: ", "document": "passage: "}})(),
                          data.column_names) == {"anchor": "query: ", "positive": "passage: ",
                                                 "negative": "passage: ", "negative_2": "passage: "}


def test_a_margin_near_one_skips_every_candidate_and_random_passages_fill_in(minilm: object) -> None:
    mined, topped_up = mine_negatives(minilm, PAIRS, PASSAGES, 2, 0.99, 8)
    assert topped_up == 3 and len(mined) == 3  # no pair is lost to a strict margin
    assert all(len(p.negatives) == 2 and p.positive not in p.negatives for p in mined)


def test_labelled_columns_give_each_positive_label_one_and_each_negative_zero() -> None:
    pairs = [Pair("q1", "p1", "d1", "heading", negatives=("n1", "n2")), Pair("q2", "p2", "d2", "heading", negatives=("n3",))]
    columns = labelled_columns(pairs)
    rows = list(zip(columns["query"], columns["passage"], columns["label"], strict=True))
    assert rows == [("q1", "p1", 1.0), ("q1", "n1", 0.0), ("q1", "n2", 0.0), ("q2", "p2", 1.0), ("q2", "n3", 0.0)]


def test_negative_cache_keeps_models_and_token_limits_apart(tmp_path: Path) -> None:
    from adaptlab.workspace import Workspace

    workspace = Workspace.resolve(tmp_path / "ws")
    folders = {negative_cache(workspace, "minilm", 128), negative_cache(workspace, "minilm", 256),
               negative_cache(workspace, "e5-small-trainable", 128)}
    assert len(folders) == 3
    assert all(f.parent == workspace.vector_cache / "hard-negatives" and len(f.name) <= 80 for f in folders)
