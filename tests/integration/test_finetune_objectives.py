"""The objectives beyond MNRL, each a real MiniLM run on the fixture corpus: triplet and margin-MSE on mined
negatives, TSDAE and MLM domain pre-training (alone and before MNRL, resumable), and GPL-style synthetic queries
written by an OpenAI-compatible endpoint on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adaptlab.config import ExperimentConfig
from adaptlab.errors import AdaptlabError
from adaptlab.pipeline import Session
from adaptlab.train.finetune_config import FinetuneConfig
from adaptlab.train.finetune_stage import finetune
from adaptlab.train.pairs import Pair

FIXTURES = Path(__file__).parents[1] / "fixtures"
pytestmark = pytest.mark.slow
TINY = {"base": "minilm", "batch_size": 4, "max_seq_length": 64, "heldout_fraction": 0, "compare": []}


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with Session.open(tmp_path / "ws", ExperimentConfig(), tracking_uri="none") as opened:
        opened.ingest([FIXTURES / "docs"])
        yield opened


def _weights(model: Any) -> np.ndarray:
    return model[0].auto_model.encoder.layer[0].attention.self.query.weight.detach().numpy().copy()


def test_triplet_and_margin_mse_train_on_mined_negatives(session: Session) -> None:
    from sentence_transformers.sentence_transformer import losses

    from adaptlab.train.finetune_trainer import build_loss

    triplet = finetune(session, FinetuneConfig(**TINY, objective="triplet", hard_negatives=2, max_steps=1,
                                               output="tiny-triplet"))
    rows = [json.loads(line) for line in (triplet.path.parent / "tiny-triplet.pairs.jsonl").read_text().splitlines()]
    assert triplet.steps == 1 and triplet.train_pairs == 2 * len(rows)  # one triplet row per negative
    margin = finetune(session, FinetuneConfig(**TINY, objective="margin-mse", hard_negatives=2, max_steps=1,
                                              output="tiny-margin"))
    assert margin.steps == 1 and margin.prepare_seconds > 0  # the teacher's labelling is timed
    model = session.embedder("tiny-margin").model
    assert isinstance(build_loss(model, FinetuneConfig(objective="margin-mse")), losses.MarginMSELoss)
    loss = build_loss(model, FinetuneConfig(objective="triplet", triplet_margin=0.2))
    assert isinstance(loss, losses.TripletLoss) and loss.triplet_margin == 0.2


def test_an_objective_that_needs_negatives_says_how_to_get_them(session: Session) -> None:
    with pytest.raises(AdaptlabError, match=r"^triplet needs a negative for every training pair: set hard_negatives"):
        finetune(session, FinetuneConfig(**TINY, objective="triplet", max_steps=1))


def test_teacher_margins_are_the_teachers_cosine_differences(session: Session, tmp_path: Path) -> None:
    from adaptlab.compress.vector_cache import VectorCache
    from adaptlab.train.margin_labels import margin_dataset, teacher_margins

    teacher = session.embedder("minilm")
    pairs = [Pair("Windenergie an Land", "Windräder an Land erzeugen Strom.", "d", "heading",
                  negatives=("Solaranlagen auf Dächern.", "Die Netzentgelte steigen.")),
             Pair("Netzentgelte", "Die Netzentgelte steigen.", "d", "heading", negatives=("Windräder an Land.", "x"))]
    margins = teacher_margins(teacher, pairs, 2, VectorCache(tmp_path / "vectors"))
    q = teacher.encode_queries(["Windenergie an Land"])[0]
    d = teacher.encode_documents(["Windräder an Land erzeugen Strom.", "Die Netzentgelte steigen."])
    assert margins.shape == (2, 2) and margins[0, 1] == pytest.approx(float(q @ d[0] - q @ d[1]), abs=1e-5)
    rows = margin_dataset(pairs, margins)
    assert rows.column_names == ["anchor", "positive", "negative", "negative_2", "label"]
    assert rows["label"][1] == pytest.approx(margins[1].tolist())


@pytest.mark.parametrize("objective", ["tsdae", "mlm"])
def test_domain_pretraining_alone_changes_the_encoder_and_keeps_it_an_embedder(session: Session,
                                                                                objective: str) -> None:
    before = _weights(session.embedder("minilm").model)
    report = finetune(session, FinetuneConfig(**TINY, objective=objective, pretrain_epochs=0.5,
                                              output=f"tiny-{objective}"))
    tuned = session.embedder(f"tiny-{objective}")
    assert report.rules == {"sentences": report.train_pairs} and report.train_pairs >= 10 and report.steps >= 1
    assert not np.allclose(_weights(tuned.model), before)
    vectors = tuned.encode_documents(["Windenergie an Land", "Netzentgelte"])
    assert vectors.shape == (2, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)


def test_pretraining_before_mnrl_is_not_repeated_after_an_interruption(session: Session,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from adaptlab.train import finetune_trainer

    config = FinetuneConfig(**TINY, pretrain="mlm", pretrain_epochs=0.5, max_steps=1, output="tiny-pre")
    real = finetune_trainer.train_sentence_transformer

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt  # the process dies after pre-training, during the pair objective

    monkeypatch.setattr(finetune_trainer, "train_sentence_transformer", killed)
    with pytest.raises(KeyboardInterrupt):
        finetune(session, config)
    saved = session.workspace.root / "finetuned" / "tiny-pre.checkpoints" / "pretrained"
    assert (saved / "modules.json").is_file()
    monkeypatch.setattr(finetune_trainer, "train_sentence_transformer", real)
    report = finetune(session, config)
    assert report.resumed_from == str(saved) and report.steps == 1  # only the pair step ran this time
    assert not saved.exists()  # the finished run leaves no checkpoints behind


def _writer_app() -> tuple[Any, list[dict[str, Any]]]:
    """/v1/chat/completions writing "Was regelt <first word of the passage>?" (a too-short reply for one)."""
    from fastapi import FastAPI

    app, seen = FastAPI(), []

    @app.post("/v1/chat/completions")
    def completions(body: dict[str, Any]) -> Any:
        seen.append(body)
        passage = body["messages"][-1]["content"].split("Passage:\n", 1)[1]
        first = passage.split()[0].strip(".,:;#")
        text = "?" if len(seen) == 1 else f"Was regelt {first}?"
        return {"id": "x", "object": "chat.completion", "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}

    return app, seen


def test_synthetic_queries_from_an_endpoint_join_the_pairs_and_are_cached(session: Session,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("fastapi", reason="needs the serve extra: pip install -e '.[serve]'")
    from integration.serve_server import serving

    app, seen = _writer_app()
    config = FinetuneConfig(**TINY, query_writer="openai:writer", synthetic_queries=6, max_steps=1, output="tiny-gpl")
    with serving(app, start_timeout=30) as url:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{url}/v1")
        report = finetune(session, config)
        asked = len(seen)
        again = finetune(session, config)
    rows = [json.loads(line) for line in (report.path.parent / "tiny-gpl.pairs.jsonl").read_text().splitlines()]
    synthetic = [r for r in rows if r["rule"] == "synthetic"]
    assert 0 < asked <= 6 and report.rules["synthetic"] == len(synthetic) == asked - 1  # one reply was rejected
    assert all(r["query"].startswith("Was regelt ") and r["positive"].startswith(r["query"][11:-1]) for r in synthetic)
    assert len(seen) == asked and again.rules == report.rules  # the second run asked nothing: all cached
