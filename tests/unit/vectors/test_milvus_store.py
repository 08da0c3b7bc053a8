"""MilvusVectorStore against a real Milvus Lite folder: upserts never duplicate, filters work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.vectors.milvus_store import IndexConfig, MilvusVectorStore, collection_name


def test_collection_names_are_valid_identifiers() -> None:
    assert collection_name("energy", "minilm") == "energy__minilm"
    assert collection_name("1 corpus", "/models/my-model") == "c_1_corpus___models_my_model"


def test_unknown_index_or_metric_is_a_clear_error() -> None:
    with pytest.raises(AdaptlabError, match="IVF_PQ"):
        IndexConfig("IVF_PQ")
    with pytest.raises(AdaptlabError, match="metric"):
        IndexConfig("HNSW", "HAMMING")


@pytest.mark.parametrize(
    "index",
    [IndexConfig("FLAT", params={}, search_params={}),
     IndexConfig("IVF_FLAT", params={"nlist": 4}, search_params={"nprobe": 4}),
     IndexConfig("HNSW")],
    ids=lambda i: i.index_type,
)
def test_upsert_search_filter_delete(tmp_path: Path, index: IndexConfig) -> None:
    store = MilvusVectorStore(str(tmp_path / "m.db"))
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(40, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = [f"c{i}" for i in range(40)]
    rows = [{"lang": "de" if i % 2 else "en", "source": "s", "metadata": {"technology": "wind", "kw": i}} for i in range(40)]
    assert store.ensure_collection("col", 8, index)
    assert not store.ensure_collection("col", 8, index)
    store.upsert("col", ids, vecs, rows)
    store.upsert("col", ids[:10], vecs[:10], rows[:10])  # a resumed run writes some again
    store.flush("col")
    assert store.count("col") == 40 and store.all_ids("col") == set(ids)
    hits = store.search("col", vecs[3:4], 5, index)[0]
    assert hits[0].id == "c3" and hits[0].score == pytest.approx(1.0, abs=1e-4)
    german = store.search("col", vecs[:1], 10, index, filter='lang == "de" and kw > 20')[0]
    assert german and all(h.fields["lang"] == "de" for h in german)
    store.delete("col", ids[:5])
    assert store.count("col") == 35
    store.close()
