"""`adaptlab compress apply`: the chosen codec rebuilds a real Milvus Lite collection's index in place."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adaptlab.compress.apply import apply_codec, codec_index
from adaptlab.config import load_config
from adaptlab.errors import AdaptlabError
from adaptlab.vectors.milvus_store import IndexConfig, MilvusVectorStore
from conftest import run_cli

pytestmark = pytest.mark.slow


def test_codec_index_sizes_ivf_by_rows() -> None:
    assert (
        codec_index("int8", 10).index_type == "HNSW_SQ" and codec_index("int8", 10).params["sq_type"] == "SQ8"
    )
    ivf = codec_index("int8-ivf", 10_000)
    assert ivf.index_type == "IVF_SQ8" and ivf.params["nlist"] == 400 and ivf.search_params["nprobe"] == 50
    with pytest.raises(AdaptlabError, match="--codec 'pq'"):
        codec_index("pq", 10)


def test_apply_rebuilds_index_keeps_rows_and_records_config(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((300, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"c{i}" for i in range(300)]
    rows = [
        {
            "lang": "en",
            "source": "s",
            "doc_id": f"d{i}",
            "heading": "",
            "title": "",
            "text": f"t{i}",
            "page": 0,
        }
        for i in range(300)
    ]
    store = MilvusVectorStore(str(tmp_path / "milvus.db"))
    try:
        store.ensure_collection("docs", 32, IndexConfig("FLAT", params={}, search_params={}))
        store.upsert("docs", ids, vectors, rows)
        store.flush("docs")
        config = tmp_path / "exp.yaml"
        config.write_text("name: mine\nvectors:\n  index_type: FLAT\n", encoding="utf-8")

        report = apply_codec(store, "docs", "int8", config)
        assert (report.index_before, report.index_after, report.rows) == ("FLAT", "HNSW_SQ", 300)
        assert store.vector_index("docs")["metric_type"] == "COSINE"
        hits = store.search("docs", vectors[:5], 1, codec_index("int8", 300))
        assert [h[0].id for h in hits] == ids[:5]  # each vector still finds itself through the SQ8 graph
        saved = load_config(config)
        assert (
            saved.name == "mine"
            and saved.vectors.index_type == "HNSW_SQ"
            and saved.vectors.search_params == {"ef": 128}
        )

        report = apply_codec(store, "docs", "int8-ivf", None)
        assert (report.index_before, report.index_after, report.config) == ("HNSW_SQ", "IVF_SQ8", None)
        assert store.count("docs") == 300
        with pytest.raises(AdaptlabError, match="does not exist"):
            apply_codec(store, "missing", "int8", None)
    finally:
        store.close()


def test_cli_apply_without_a_collection_is_one_line_error(workspace: Path) -> None:
    done = run_cli("compress", "apply", "--codec", "int8", "--model", "minilm")
    assert done.returncode == 2 and done.stderr.startswith("error:") and "adaptlab embed" in done.stderr
