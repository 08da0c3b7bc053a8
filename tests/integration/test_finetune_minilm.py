"""A real MiniLM MNRL fine-tune on the fixtures: a handful of steps, saved, registered, resumable."""

from pathlib import Path

import pytest

from adaptlab.config import ExperimentConfig
from adaptlab.pipeline import Session
from adaptlab.train.finetune_config import FinetuneConfig
from adaptlab.train.finetune_stage import finetune
from adaptlab.train.finetune_trainer import last_checkpoint, pairs_dataset, train_sentence_transformer
from adaptlab.train.pairs import Pair
from conftest import write_topic_pairs

FIXTURES = Path(__file__).parents[1] / "fixtures"
pytestmark = pytest.mark.slow


def test_finetune_saves_registers_and_evaluates(tmp_path: Path) -> None:
    config = FinetuneConfig(base="minilm", max_steps=2, batch_size=4, max_seq_length=64, output="tiny",
                            eval=[str(FIXTURES / "beir-mini")], compare=["bm25"])
    with Session.open(tmp_path / "ws", ExperimentConfig(), tracking_uri="none") as session:
        session.ingest([FIXTURES / "docs"])
        report = finetune(session, config)
        assert (report.path / "modules.json").is_file() and "tiny" in (report.path / "README.md").read_text()
        assert report.steps == 2 and sum(report.rules.values()) == report.train_pairs
        assert {s.role for s in report.scores} == {"bm25", "before", "after"}
        assert session.embedder("tiny").encode_queries(["Windenergie"]).shape == (1, 384)
        assert session.collection("tiny").startswith("corpus__tiny_")


def test_finetune_calibrates_the_hybrid_weight_on_held_out_pairs_and_search_uses_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from adaptlab.eval import retrieval_eval
    from adaptlab.eval.document_windows import document_windows
    from adaptlab.train import evaluate
    from adaptlab.train.hybrid_calibration import CALIBRATION_FILE, calibrated_weights

    windowed: list[str] = []  # window scoring reaches the table's evaluations (before, after), not the calibration

    def spy(embedder, documents, best_weight):  # type: ignore[no-untyped-def]
        windowed.append(embedder.name)
        assert best_weight == 0.5
        return document_windows(embedder, documents, best_weight)

    monkeypatch.setattr(retrieval_eval, "document_windows", spy)
    monkeypatch.setattr(evaluate, "document_windows", spy)
    pairs_file = write_topic_pairs(tmp_path / "pairs.jsonl")
    config = FinetuneConfig(base="minilm", max_steps=1, batch_size=4, max_seq_length=64, output="tiny-cal",
                            pairs=str(pairs_file), eval=[str(FIXTURES / "beir-mini")], compare=["hybrid"],
                            heldout_fraction=0.5, window_weight=0.5)
    with Session.open(tmp_path / "ws", ExperimentConfig(), tracking_uri="none") as session:
        report = finetune(session, config)
        # each model is cut into windows once: the base before, the result after (its folder encodes them itself);
        # the calibration reads chunks as search does
        assert len(windowed) == 2 and windowed[0] == "minilm" and windowed[1] != "minilm"
        assert "long documents scored from windows" in (report.path / "README.md").read_text()
        assert report.heldout_pairs >= 10 and (report.path / CALIBRATION_FILE).is_file()
        assert report.hybrid_weights == calibrated_weights(report.path) and sum(report.hybrid_weights) == 1.0
        calibrated = next(s for s in report.scores if s.role == "after+bm25 calibrated")
        assert calibrated.result.model.startswith("hybrid-wsum")
        assert session.hybrid_weights("tiny-cal") == report.hybrid_weights  # search --mode hybrid fuses with it
        assert session.hybrid_retriever("tiny-cal").weights == report.hybrid_weights
        assert session.hybrid_weights("minilm") is None  # a zoo model keeps 0.5/0.5
        again = finetune(session, config.model_copy(update={"compare": []}))  # same name, no hybrid this time
        assert again.hybrid_weights is None and session.hybrid_weights("tiny-cal") is None  # no stale weight


def test_finetune_with_mined_hard_negatives_records_them_with_the_pairs(tmp_path: Path) -> None:
    import json

    config = FinetuneConfig(base="minilm", max_steps=1, batch_size=4, max_seq_length=64, hard_negatives=1,
                            negative_margin=0.05, output="tiny-hn", eval=[], compare=[], heldout_fraction=0)
    with Session.open(tmp_path / "ws", ExperimentConfig(), tracking_uri="none") as session:
        session.ingest([FIXTURES / "docs"])
        report = finetune(session, config)
    rows = [json.loads(line) for line in (report.path.parent / "tiny-hn.pairs.jsonl").read_text().splitlines()]
    assert rows and all(len(r["negatives"]) == 1 and r["negatives"][0] != r["positive"] for r in rows)
    assert report.steps == 1 and list((tmp_path / "ws").rglob("corpus_embeddings_*.npy"))


def test_training_resumes_from_the_last_checkpoint(tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    from adaptlab.models.resolve import minilm_dir

    pairs = [Pair(f"frage {i}", f"antwort nummer {i} mit etwas text", f"d{i}", "heading") for i in range(16)]
    config = FinetuneConfig(max_steps=2, batch_size=4, max_seq_length=32, save_steps=1)
    model = SentenceTransformer(str(minilm_dir()), device="cpu")
    first = train_sentence_transformer(model, pairs_dataset(pairs), None, config, tmp_path / "ckpt")
    assert first.resumed_from is None and last_checkpoint(tmp_path / "ckpt")
    second = train_sentence_transformer(model, pairs_dataset(pairs), None, config.model_copy(update={"max_steps": 3}),
                                        tmp_path / "ckpt")
    assert second.resumed_from and second.resumed_from.endswith("checkpoint-2") and second.steps == 3


def test_each_objective_maps_to_its_sentence_transformers_loss() -> None:
    from sentence_transformers import SentenceTransformer

    from adaptlab.models.resolve import minilm_dir
    from adaptlab.train.finetune_trainer import build_loss

    model = SentenceTransformer(str(minilm_dir()), device="cpu")
    names = {o: type(build_loss(model, FinetuneConfig(objective=o))).__name__
             for o in ("mnrl", "cached-mnrl", "matryoshka", "distill-parallel")}
    assert names == {"mnrl": "MultipleNegativesRankingLoss", "cached-mnrl": "CachedMultipleNegativesRankingLoss",
                     "matryoshka": "MatryoshkaLoss", "distill-parallel": "MSELoss"}


def test_document_batches_reach_the_trainer_and_the_held_out_rows_keep_their_own_sampler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sentence_transformers import SentenceTransformer

    from adaptlab.models.resolve import minilm_dir
    from adaptlab.train import document_batches

    seen: list[list[int]] = []
    draw = document_batches.DocumentBatchSampler.__iter__

    def spy(self: document_batches.DocumentBatchSampler):  # type: ignore[no-untyped-def]
        for batch in draw(self):
            seen.append(batch)
            yield batch

    monkeypatch.setattr(document_batches.DocumentBatchSampler, "__iter__", spy)
    pairs = [Pair(f"frage {d} {i}", f"antwort {d} nummer {i} mit text", f"doc-{d}", "heading", f"c{d}{i}")
             for d in "abc" for i in range(4)]
    heldout = [Pair(f"andere frage {i}", f"andere antwort {i}", "doc-h", "heading") for i in range(4)]
    config = FinetuneConfig(epochs=1, batch_size=4, max_seq_length=32, batches="document")
    model = SentenceTransformer(str(minilm_dir()), device="cpu")
    stats = train_sentence_transformer(model, pairs_dataset(pairs), pairs_dataset(heldout), config, tmp_path / "ck",
                                       sources=pairs)
    assert stats.steps == 3 and len(seen) == 3
    assert all(len({pairs[i].doc_id for i in batch}) == 1 for batch in seen)
