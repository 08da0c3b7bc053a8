"""Queries encoded in a spawned child process (`serve.query_process`): the same vectors as in-process,
prefetching, errors as one line, and a real server that searches through it."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from adaptlab.config import ExperimentConfig
from adaptlab.errors import AdaptlabError
from adaptlab.models.engine.cpu_packed import CpuPackedEncoder
from adaptlab.models.resolve import minilm_dir
from adaptlab.serve.query_process import QueryEncoderProcess

pytestmark = pytest.mark.slow
QUESTIONS = ["Solarpark Nettonennleistung", "Windenergie an Land", "grid connection of wind farms"]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """bfloat16 vectors move by ~1e-4 in cosine with the batch they were computed in (the pump batches
    freely), and the in-process encoder may have fallen back to float32 (cpu_packed.bf16_products_correct)."""
    return bool(np.min(np.sum(a * b, axis=-1)) > 0.999)


def _settings(encoder: str = "bf16") -> dict:
    config = ExperimentConfig()
    config.search.query_encoders = {"minilm": encoder}
    return config.model_dump(mode="json")


def test_child_encodes_like_the_encoder_in_process_and_serves_prefetches(tmp_path: Path) -> None:
    child = QueryEncoderProcess(str(tmp_path / "ws"), _settings(), "minilm")
    try:
        child.wait_ready()
        assert child.dim == 384 and "own process" in child.name
        local = CpuPackedEncoder(minilm_dir()).encode_queries(QUESTIONS)
        assert _same(child.encode_queries(QUESTIONS), local)
        for text in QUESTIONS:
            child.prefetch(text)
        assert _same(child.encode_queries(QUESTIONS[::-1]), local[::-1])
        results: dict[int, np.ndarray] = {}

        def ask(i: int) -> None:
            results[i] = child.encode_queries([QUESTIONS[i % 3]])

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(9)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(_same(results[i][0], local[i % 3]) for i in range(9))
        with pytest.raises(AdaptlabError, match="queries only"):
            child.encode_documents(QUESTIONS)
        child._process.kill()  # a crashed child is started again and the batch asked again
        child._process.join()
        with pytest.warns(UserWarning, match="died"):
            assert _same(child.encode_queries(QUESTIONS), local)
        assert child.restarts == 1
    finally:
        child.close()
    assert not child._process.is_alive()


def test_a_child_that_cannot_load_its_model_fails_in_one_line(tmp_path: Path) -> None:
    child = QueryEncoderProcess(str(tmp_path / "ws"), _settings(), "no-such-model")
    with pytest.raises(AdaptlabError, match="failed to load in its process") as info:
        child.wait_ready()
    assert "\n" not in str(info.value)
    assert not child._process.is_alive()


def assert_same_ranking(hits: list[dict], expected: list[dict], tolerance: float = 0.01) -> None:
    """The child's bf16 hits rank like the in-process float32 ones: at each rank the score is within
    `tolerance`, and the chunk is the expected one or one whose expected score ties it within `tolerance`
    (bf16 rounding may swap near ties; on AVX512-BF16 without AMX it does, on AMX it did not)."""
    for rank, hit in enumerate(hits):
        want = expected[rank]
        assert abs(hit["score"] - want["score"]) < tolerance, (rank, hit, want)
        tied = {e["chunk_id"] for e in expected if abs(e["score"] - want["score"]) < tolerance}
        assert hit["chunk_id"] in tied, (rank, hit["chunk_id"], want["chunk_id"])


def test_server_searches_through_the_child_like_in_process(tmp_path: Path) -> None:
    httpx = pytest.importorskip("httpx", reason="needs httpx (the dev extra)")
    pytest.importorskip("fastapi", reason="needs the serve extra: pip install -e '.[serve]'")
    from integration.serve_server import build_workspace, running_server

    workspace = build_workspace(tmp_path)
    expected = {}
    with running_server(workspace) as base, httpx.Client(base_url=base, timeout=120) as client:
        for q in QUESTIONS:
            expected[q] = client.get("/search", params={"query": q, "k": 5}).json()["hits"]
    config = ExperimentConfig()
    config.search.query_encoders = {"minilm": "bf16"}
    config.search.in_memory = True
    threads = torch.get_num_threads()
    with running_server(workspace, config=config) as base, httpx.Client(base_url=base, timeout=120) as client:
        assert client.get("/health").json()["models"][0]["query_process"] is True
        for q in QUESTIONS:
            for mode in ("dense", "hybrid"):
                hits = client.get("/search", params={"query": q, "k": 3, "mode": mode}).json()["hits"]
                if mode == "dense":
                    assert_same_ranking(hits, expected[q])
                assert hits
    assert torch.get_num_threads() == threads  # the closed app gave PyTorch its threads back
