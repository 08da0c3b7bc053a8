"""Every installed backend on real weights: shapes, unit norm, sensible similarities. Slow."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from adaptlab.models.loading import load_embedder
from adaptlab.models.registry import ZOO, is_installed

pytestmark = pytest.mark.slow

# 0 and 1 are a German/English paraphrase pair, 2 is unrelated; multilingual models must see it.
SENTENCES = [
    "Die Windkraftanlage erzeugt Strom aus Wind.",
    "The wind turbine generates electricity from wind.",
    "Der Kuchen schmeckt nach Zimt und Vanille.",
]
# An English-only pair for the English models.
EN_SENTENCES = [
    "Solar panels convert sunlight into electricity.",
    "Photovoltaic modules turn light from the sun into electric power.",
    "My grandmother bakes apple pie on Sundays.",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


def _installed(name: str) -> str:
    """The name back, or skip the test when the model's package is absent."""
    if not is_installed(ZOO[name]):
        pytest.skip(f"{name} not installed: {ZOO[name].install}")
    return name


@pytest.mark.parametrize("name", sorted(ZOO))
def test_backend_encodes_sensibly(name: str, cache_dir: Path) -> None:
    _installed(name)
    model = load_embedder(name, cache_dir)
    spec = ZOO[name]
    assert (model.dim, model.max_seq_length) == (spec.dim, spec.max_seq_length)
    texts = SENTENCES if "multilingual" in spec.languages else EN_SENTENCES
    for encode in (model.encode_documents, model.encode_queries):
        vectors = encode(texts, batch_size=2)
        assert vectors.shape == (3, spec.dim) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
        sims = vectors @ vectors.T
        assert sims[0, 1] > sims[0, 2] and sims[0, 1] > sims[1, 2]
    counts = model.count_tokens(texts)
    assert counts is not None and len(counts) == 3 and all(c > 2 for c in counts)
    assert load_embedder(name, cache_dir) is model  # cached per process
    assert model.encode_documents([]).shape == (0, spec.dim)


def test_e5_query_and_passage_roles_differ(cache_dir: Path) -> None:
    model = load_embedder(_installed("e5-small"), cache_dir)
    queries, passages = model.encode_queries(SENTENCES), model.encode_documents(SENTENCES)
    assert np.all((queries * passages).sum(axis=1) < 0.999)


def test_onnx_int8_matches_sentence_transformers_minilm(cache_dir: Path) -> None:
    onnx = load_embedder(_installed("minilm-onnx-int8"), cache_dir)
    torch_model = load_embedder(_installed("minilm"), cache_dir)
    texts = [*EN_SENTENCES, *SENTENCES, "x", "Grid operators connect photovoltaic systems. " * 60]
    cosine = (onnx.encode_documents(texts, batch_size=3) * torch_model.encode_documents(texts)).sum(axis=1)
    assert cosine.min() >= 0.98, cosine
    assert onnx.count_tokens(texts) == torch_model.count_tokens(texts)


def test_long_text_counts_past_the_limit(cache_dir: Path) -> None:
    """count_tokens reports the untruncated length so chunkers can see a text is too long."""
    model = load_embedder(_installed("minilm"), cache_dir)
    (count,) = model.count_tokens(["wind " * 600])
    assert model.max_seq_length is not None and count > model.max_seq_length


def test_local_folder_loads_like_a_zoo_model(cache_dir: Path) -> None:
    _installed("minilm")
    from adaptlab.models.resolve import minilm_dir

    local = load_embedder(str(minilm_dir()), cache_dir)
    zoo = load_embedder("minilm", cache_dir)
    assert local is not zoo and local.dim == 384
    np.testing.assert_allclose(
        local.encode_documents(EN_SENTENCES), zoo.encode_documents(EN_SENTENCES), atol=1e-5
    )


def test_mpnet_folder_is_reused(cache_dir: Path) -> None:
    _installed("mpnet")
    from adaptlab.models.resolve import mpnet_dir

    first = mpnet_dir(cache_dir)
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert mpnet_dir(cache_dir) == first and (first / "model.safetensors").stat().st_mtime_ns == stamp
    assert [p.name for p in cache_dir.iterdir()] == ["all-mpnet-base-v2"]
