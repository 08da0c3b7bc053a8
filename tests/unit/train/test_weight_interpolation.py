"""Cross-lingual distillation knobs: weight averaging with the base, German-side-only training, config bounds."""

from pathlib import Path

import numpy as np
import pydantic
import pytest
import torch

from adaptlab.train.finetune_config import FinetuneConfig
from adaptlab.train.finetune_trainer import interpolate_weights, parallel_dataset, train_sentence_transformer

PAIRS = [
    ("The house is small.", "Das Haus ist klein."),
    ("I drink coffee.", "Ich trinke Kaffee."),
    ("The wind turbine stands still.", "Die Windkraftanlage steht still."),
    ("Where is the station?", "Wo ist der Bahnhof?"),
]


@pytest.fixture(scope="module")
def minilm_pair() -> tuple:
    from sentence_transformers import SentenceTransformer

    from adaptlab.models.resolve import minilm_dir

    return (
        SentenceTransformer(str(minilm_dir()), local_files_only=True),
        SentenceTransformer(str(minilm_dir()), local_files_only=True),
    )


def test_interpolation_mixes_weights_and_one_keeps_them(minilm_pair: tuple) -> None:
    model, base = minilm_pair
    key = "0.model.encoder.layer.0.attention.self.query.weight"
    original = base.state_dict()[key].clone()
    with torch.no_grad():
        model.state_dict()[key].add_(1.0)
    interpolate_weights(model, base, 1.0)
    assert torch.allclose(model.state_dict()[key], original + 1.0)
    interpolate_weights(model, base, 0.25)
    assert torch.allclose(model.state_dict()[key], original + 0.25, atol=1e-6)
    interpolate_weights(model, base, 1e-9)  # practically the base again
    assert torch.allclose(model.state_dict()[key], original, atol=1e-6)


@pytest.mark.slow
def test_german_side_only_distillation_moves_german_onto_the_english_teacher(
    minilm_pair: tuple, tmp_path: Path
) -> None:
    student, teacher = minilm_pair
    interpolate_weights(student, teacher, 1e-12)  # start from the base
    dataset = parallel_dataset(teacher, PAIRS, 4).remove_columns(["english"])
    target = teacher.encode([en for en, _ in PAIRS])
    before = np.mean(np.sum(student.encode([de for _, de in PAIRS]) * target, axis=1))
    config = FinetuneConfig(
        objective="distill-parallel",
        max_steps=4,
        batch_size=4,
        learning_rate=5e-4,
        warmup_ratio=0,
        max_seq_length=32,
        distill_english=False,
    )
    stats = train_sentence_transformer(student, dataset, None, config, tmp_path / "ck")
    after = np.mean(np.sum(student.encode([de for _, de in PAIRS]) * target, axis=1))
    assert stats.steps == 4
    assert after > before + 0.02


@pytest.mark.parametrize("share", [0.0, -0.5, 1.5])
def test_interpolation_share_must_be_in_zero_one(share: float) -> None:
    with pytest.raises(pydantic.ValidationError):
        FinetuneConfig(interpolate=share)
