"""The ensemble: its cosine is the weighted mean of its members' cosines; it survives save/load."""

from pathlib import Path

import numpy as np
import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.models.base import Embedder, l2_normalize
from adaptlab.train.adapter import AdapterEmbedder, AdapterParams, EmbeddingAdapter
from adaptlab.train.ensemble import EnsembleEmbedder, is_ensemble_dir, load_ensemble, save_ensemble


class Hashed(Embedder):
    """A deterministic toy embedder: each text's vector is drawn from a generator seeded by the text."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def encode_documents(self, texts, batch_size=32):  # type: ignore[no-untyped-def]
        seed = sum(map(ord, self.name))
        return np.stack([np.random.default_rng([seed, *map(ord, t)]).normal(size=self.dim) for t in texts])


def test_ensemble_cosine_is_the_weighted_mean_of_member_cosines() -> None:
    a, b = Hashed("a", 8), Hashed("b", 5)
    ensemble = EnsembleEmbedder([a, b], [1.0, 0.5], name="a+b")
    texts = ["Windpark", "Solaranlage", "Speicher"]
    vectors = ensemble.encode_queries(texts)
    assert vectors.shape == (3, 13) and ensemble.dim == 13
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-6)
    cos_a = l2_normalize(a.encode_queries(texts)) @ l2_normalize(a.encode_queries(texts)).T
    cos_b = l2_normalize(b.encode_queries(texts)) @ l2_normalize(b.encode_queries(texts)).T
    expected = (1.0 * cos_a + 0.25 * cos_b) / 1.25
    assert np.allclose(vectors @ vectors.T, expected, atol=1e-5)
    # a zero weight silences a member: rankings equal the other member's
    solo = EnsembleEmbedder([a, b], [1.0, 0.0], name="a only").encode_documents(texts)
    assert np.allclose(solo @ solo.T, cos_a, atol=1e-5)


def test_bad_weights_are_refused() -> None:
    with pytest.raises(AdaptlabError, match="weights"):
        EnsembleEmbedder([Hashed("a", 4)], [0.0], name="x")
    with pytest.raises(AdaptlabError, match="one weight per member"):
        EnsembleEmbedder([Hashed("a", 4), Hashed("b", 4)], [1.0], name="x")


def test_save_and_load_round_trip_with_adapter_members(tmp_path: Path) -> None:
    members = {"a": Hashed("a", 6), "b": Hashed("b", 4)}
    texts = [f"Satz {i}" for i in range(40)]
    wrapped = []
    for key, base in members.items():
        q, d = base.encode_queries(texts), base.encode_documents(texts[::-1])
        adapter = EmbeddingAdapter(AdapterParams(side="both", epochs=2), base=key).fit(q, d)
        adapter.save(tmp_path / "ens" / "members" / key)
        wrapped.append(AdapterEmbedder(base, adapter, name=key))
    save_ensemble(tmp_path / "ens", [("members/a", 1.0), ("members/b", 0.5)], {"base": "a"})
    assert is_ensemble_dir(tmp_path / "ens") and not is_ensemble_dir(tmp_path / "ens" / "members" / "a")

    def load_member(folder: Path) -> Embedder:
        adapter = EmbeddingAdapter.load(folder)
        return AdapterEmbedder(members[adapter.base], adapter, name=adapter.base)

    loaded = load_ensemble(tmp_path / "ens", load_member, name="ens")
    original = EnsembleEmbedder(wrapped, [1.0, 0.5], name="ens")
    assert loaded.weights == [1.0, 0.5] and loaded.dim == 10
    assert np.allclose(loaded.encode_documents(texts[:3]), original.encode_documents(texts[:3]), atol=1e-6)
    with pytest.raises(AdaptlabError, match="member folder missing"):
        save_ensemble(tmp_path / "ens", [("members/c", 1.0)])
    (tmp_path / "ens" / "ensemble.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(AdaptlabError, match="not a valid ensemble"):
        load_ensemble(tmp_path / "ens", load_member, name="ens")
