"""The CPU packed encoder (`query_encoders: bf16`): same vectors as sentence-transformers, whatever the
batch, the step split or the shape rounding, and the folder's query prompt applied."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from adaptlab.models.engine import cpu_packed
from adaptlab.models.engine.cpu_packed import CpuPackedEncoder
from adaptlab.models.resolve import minilm_dir

TEXTS = [
    "Wer muss Anlagen an das Netz anschließen?",
    "grid connection obligations for renewable energy plants",
    "Ausschreibung Solaranlagen Höchstwert",
    "Marktprämie",
    "The operator of a wind farm must report the net rated power of every unit to the register "
    "within one month of commissioning, together with its location and the grid connection point.",
]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(minilm_dir()), device="cpu")
    return model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)


@pytest.mark.parametrize(("dtype", "floor"), [("fp32", 0.99999), ("bf16", 0.999)])
def test_vectors_match_sentence_transformers(reference: np.ndarray, dtype: str, floor: float) -> None:
    encoder = CpuPackedEncoder(minilm_dir(), dtype=dtype)
    got = encoder.encode_queries(TEXTS)
    assert got.shape == (len(TEXTS), 384) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(got * reference, axis=1))) >= floor
    assert np.allclose(encoder.encode_documents(TEXTS), got)  # MiniLM has no prompts


def test_prepacked_weights_give_the_vectors_of_plain_products(reference: np.ndarray) -> None:
    from adaptlab.models.engine.packed_bert import prepack_available

    encoder = CpuPackedEncoder(minilm_dir(), dtype="bf16")
    if encoder.dtype != "bf16":
        pytest.skip("bfloat16 products are wrong in this process (see bf16_products_correct)")
    assert (encoder.encoder.prepacked is not None) == prepack_available()
    if encoder.encoder.prepacked is None:
        pytest.skip("this torch build has no oneDNN prepacked linear")
    packed = encoder.encode_queries(TEXTS)
    encoder.encoder.prepacked = None
    plain = encoder.encode_queries(TEXTS)
    assert float(np.min(np.sum(packed * plain, axis=1))) >= 0.9999
    assert float(np.min(np.sum(packed * reference, axis=1))) >= 0.999
    assert CpuPackedEncoder(minilm_dir(), dtype="fp32").encoder.prepacked is None  # float32 keeps plain addmm


def test_batching_step_split_and_shape_rounding_do_not_change_vectors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoder = CpuPackedEncoder(minilm_dir(), dtype="fp32")
    together = encoder.encode_queries(TEXTS)
    alone = np.vstack([encoder.encode_queries([t]) for t in TEXTS])
    monkeypatch.setattr(cpu_packed, "STEP_TOKENS", 24)  # several forwards, one over-long text alone
    monkeypatch.setattr(cpu_packed, "SHAPE_STEP", 1)  # no filler row
    monkeypatch.setattr(cpu_packed, "SMALL_SHAPE_STEP", 1)
    split = encoder.encode_queries(TEXTS)
    assert np.allclose(together, alone, atol=1e-5) and np.allclose(together, split, atol=1e-5)
    assert encoder.encode_queries([]).shape == (0, 384)
    assert encoder.count_tokens(["Marktprämie"]) == [len(encoder.tokenizer.encode("Marktprämie").ids)]


def test_the_query_prompt_of_the_folder_is_applied(tmp_path: Path) -> None:
    folder = tmp_path / "prompted"
    shutil.copytree(minilm_dir(), folder)
    (folder / "config_sentence_transformers.json").write_text(
        json.dumps({"prompts": {"query": "query: ", "document": "passage: "}}), encoding="utf-8"
    )
    prompted, plain = CpuPackedEncoder(folder, dtype="fp32"), CpuPackedEncoder(minilm_dir(), dtype="fp32")
    assert np.allclose(
        prompted.encode_queries(["Marktprämie"]), plain.encode_queries(["query: Marktprämie"]), atol=1e-5
    )
    assert np.allclose(
        prompted.encode_documents(["Marktprämie"]), plain.encode_queries(["passage: Marktprämie"]), atol=1e-5
    )


def test_unknown_dtype_is_a_one_line_error() -> None:
    from adaptlab.errors import AdaptlabError

    with pytest.raises(AdaptlabError, match="dtype 'fp8' unknown"):
        CpuPackedEncoder(minilm_dir(), dtype="fp8")


def test_a_process_whose_bf16_products_are_wrong_falls_back_to_fp32(
    monkeypatch: pytest.MonkeyPatch, reference: np.ndarray
) -> None:
    monkeypatch.setattr(cpu_packed, "bf16_products_correct", lambda: False)
    with pytest.warns(UserWarning, match="encoding in float32"):
        encoder = CpuPackedEncoder(minilm_dir(), dtype="bf16")
    assert encoder.dtype == "fp32"
    assert float(np.min(np.sum(encoder.encode_queries(TEXTS) * reference, axis=1))) >= 0.99999


def test_the_bf16_check_catches_the_broken_thread_after_a_font_was_loaded(tmp_path: Path) -> None:
    """The real case, in a fresh interpreter: PIL loads a font before PyTorch's first bf16 product."""
    import subprocess
    import sys

    from adaptlab.ocr.synthetic import find_font

    font = find_font()
    if font is None:
        pytest.skip("no TrueType font found; apt-get install fonts-dejavu-core")
    script = (
        f"from PIL import ImageFont; ImageFont.truetype({str(font)!r}, 20)\n"
        "import torch; torch.set_num_threads(2)\n"
        "from adaptlab.models.engine.cpu_packed import CpuPackedEncoder, bf16_products_correct\n"
        "from adaptlab.models.resolve import minilm_dir\n"
        "import warnings; warnings.simplefilter('ignore')\n"
        "ok = bf16_products_correct(); e = CpuPackedEncoder(minilm_dir(), dtype='bf16')\n"
        "from sentence_transformers import SentenceTransformer\n"
        "ref = SentenceTransformer(str(minilm_dir()), device='cpu').encode(['Marktprämie'], normalize_embeddings=True)\n"
        "print(ok, e.dtype, float((e.encode_queries(['Marktprämie']) * ref).sum()))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    ok, dtype, cosine = out.stdout.split()[-3:]
    assert dtype == ("bf16" if ok == "True" else "fp32") and float(cosine) > 0.999  # vectors stay right


def test_step_token_counts_round_finely_when_small() -> None:
    assert [cpu_packed.rounded_tokens(n) for n in (1, 16, 17, 250, 256, 257, 500)] == [16, 16, 32, 256, 256, 320, 512]
