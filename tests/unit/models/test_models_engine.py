"""The throughput engine's pieces on CPU: batch planning, reordering, exact prefix tokenisation, FLOPs,
folder layout, and end-to-end agreement with sentence-transformers on the real MiniLM."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.models.engine import TokenizedShard, encoder_flops, plan_batches, plan_block
from adaptlab.models.engine.batching import padded_fraction
from adaptlab.models.engine.fast_encoder import gather_in_order
from adaptlab.models.engine.st_folder import read_layout
from adaptlab.models.engine.tokenize_workers import ShardTokenizer
from adaptlab.models.resolve import minilm_dir

GERMAN = (
    "Die Übertragungsnetzbetreiber sind verpflichtet, Anlagen zur Erzeugung von Strom aus erneuerbaren "
    "Energien unverzüglich vorrangig an der Stelle an ihr Netz anzuschließen, die im Hinblick auf die "
    "Spannungsebene geeignet ist. "
)


def test_plan_batches_respects_budget_and_covers_every_row_once() -> None:
    lengths = np.array(sorted(np.random.default_rng(1).integers(5, 512, 1000), reverse=True))
    batches = plan_batches(lengths, token_budget=4096)
    assert batches[0].start == 0 and batches[-1].stop == 1000
    assert all(a.stop == b.start for a, b in zip(batches, batches[1:]))
    assert all(b.rows * b.length <= 4096 for b in batches)
    assert all(b.length == lengths[b.start] for b in batches)
    assert padded_fraction(lengths, batches) < 0.05


def test_plan_batches_rejects_unsorted_lengths() -> None:
    with pytest.raises(ValueError):
        plan_batches(np.array([3, 5]), 100)


def test_plan_block_batches_frequent_lengths_alone_and_pads_the_rest() -> None:
    lengths = np.array([7] * 50 + [9] * 3 + [8] * 40 + [3] * 2)
    np.random.default_rng(0).shuffle(lengths)
    order, batches = plan_block(lengths, token_budget=140, min_uniform_rows=10)
    assert sorted(order.tolist()) == list(range(len(lengths)))
    ordered = lengths[order]
    covered = [i for b in batches for i in range(b.start, b.stop)]
    assert covered == list(range(len(lengths)))
    for b in batches:
        rows = ordered[b.start : b.stop]
        assert rows.max() <= b.length and b.rows * b.length <= 140
    uniform = [b for b in batches if (ordered[b.start : b.stop] == b.length).all()]
    assert sum(b.rows for b in uniform) >= 90  # the 7s and 8s, with no padding and no mask
    sizes = [b.rows for b in batches if b.length == 7]
    assert max(sizes) - min(sizes) <= 1  # split evenly, no tiny tail batch


def test_gather_in_order_matches_row_by_row_reordering() -> None:
    rows = [np.arange(n, dtype=np.int32) + 100 * i for i, n in enumerate([3, 1, 4, 2])]
    shard = TokenizedShard(np.concatenate(rows), np.array([len(r) for r in rows], dtype=np.int32))
    order = np.array([2, 0, 3, 1])
    lengths, ids = gather_in_order(shard, order)
    assert lengths.tolist() == [4, 3, 2, 1]
    assert ids.tolist() == np.concatenate([rows[i] for i in order]).tolist()


def test_prefix_tokenisation_keeps_exactly_the_tokens_of_the_whole_text() -> None:
    tokenizer_file = minilm_dir() / "tokenizer.json"
    texts = [GERMAN * 12, GERMAN * 2, "kurz", GERMAN * 40 + "Ende"]
    cut = ShardTokenizer(str(tokenizer_file), max_length=256, char_limit=600)(texts)
    whole = ShardTokenizer(str(tokenizer_file), max_length=256, char_limit=None)(texts)
    assert cut.lengths.tolist() == whole.lengths.tolist()
    assert cut.ids.tolist() == whole.ids.tolist()
    assert cut.lengths.max() == 256


def test_encoder_flops_counts_projections_ffn_and_attention() -> None:
    config = SimpleNamespace(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24)
    per_chunk = encoder_flops(config, [453])
    expected = 24 * 453 * (8 * 1024**2 + 4 * 1024 * 4096 + 4 * 453 * 1024)
    assert per_chunk == expected
    assert 2.9e11 < per_chunk < 3.0e11  # ~294 GFLOP: the issue's ~2,658 chunks/s at ~790 TFLOP/s


def test_layout_of_the_zoo_minilm_and_unsupported_heads(tmp_path: Path) -> None:
    layout = read_layout(minilm_dir())
    assert layout.pooling == "mean" and layout.normalize and layout.max_length == 256
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode": "cls"}))
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    assert read_layout(tmp_path).pooling == "cls"
    modules.append({"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(AdaptlabError, match="Dense"):
        read_layout(tmp_path)


@pytest.mark.slow
def test_fast_encoder_agrees_with_sentence_transformers_on_cpu() -> None:
    from sentence_transformers import SentenceTransformer

    from adaptlab.models.engine import FastEncoder, FastEncoderConfig

    rng = np.random.default_rng(3)
    words = (GERMAN * 30).split()
    texts = [" ".join(words[s : s + n]) for s, n in zip(rng.integers(0, 300, 40), rng.integers(1, 200, 40))]
    texts[5] = texts[6]  # equal lengths take the unmasked path
    reference = SentenceTransformer(str(minilm_dir()), device="cpu").encode(texts, normalize_embeddings=True)
    config = FastEncoderConfig(device="cpu", workers=0, block_size=16, token_budget=2048, min_uniform_rows=2)
    with FastEncoder(minilm_dir(), config) as encoder:
        vectors = encoder.encode(texts)
    cosine = (vectors * reference).sum(axis=1)
    assert vectors.shape == (40, 384)
    assert cosine.min() > 0.9999


@pytest.mark.slow
def test_tokenizer_pool_workers_return_shards_in_order() -> None:
    from adaptlab.models.engine import TokenizerPool

    texts = [f"{i} " + GERMAN * (i % 4) for i in range(50)]
    whole = ShardTokenizer(str(minilm_dir() / "tokenizer.json"), 128, None)(texts)
    with TokenizerPool(minilm_dir() / "tokenizer.json", 128, workers=1) as pool:
        shards = list(pool.shards(texts, shard_size=7, prefetch=2))
    assert [len(s.lengths) for s in shards] == [7] * 7 + [1]
    joined = TokenizedShard.concat(shards)
    assert joined.ids.tolist() == whole.ids.tolist()


def test_iter_blocks_hands_whole_blocks_to_an_engine_backed_embedder() -> None:
    from adaptlab.models.base import Embedder
    from adaptlab.models.encode import encode_documents

    class LengthEmbedder(Embedder):
        """Encodes a text as (its length, 1): enough to check order and block sizes."""

        name, dim, whole_blocks, preferred_block_size = "len", 2, True, 4

        def __init__(self) -> None:
            self.calls: list[int] = []

        def encode_documents(self, texts, batch_size=32):  # type: ignore[no-untyped-def]
            self.calls.append(len(texts))
            return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    embedder = LengthEmbedder()
    texts = ["a" * n for n in (5, 1, 9, 3, 7, 2)]
    vectors = encode_documents(embedder, texts, batch_size=2, block_size=3)
    assert vectors[:, 0].tolist() == [5, 1, 9, 3, 7, 2]
    assert embedder.calls == [4, 2]  # the engine's preferred block, not the caller's batch size
