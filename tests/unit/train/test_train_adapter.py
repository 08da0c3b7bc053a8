"""The adapter: identity at start, improves a synthetic retrieval task, and survives save/load."""

from pathlib import Path

import numpy as np

from adaptlab.models.base import Embedder, l2_normalize
from adaptlab.train.adapter import AdapterEmbedder, AdapterParams, EmbeddingAdapter


def _task(seed: int, n: int = 300, dim: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Queries are a fixed rotation of their documents plus noise: a frozen model that 'speaks another
    language' on the query side, which a linear adapter can learn and raw cosine cannot."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(dim, dim)))
    docs = l2_normalize(rng.normal(size=(n, dim)))
    queries = l2_normalize(docs @ rotation + 0.3 * rng.normal(size=(n, dim)) / np.sqrt(dim))
    return queries.astype(np.float32), docs.astype(np.float32)


def _accuracy(queries: np.ndarray, docs: np.ndarray) -> float:
    return float(np.mean(np.argmax(queries @ docs.T, axis=1) == np.arange(len(queries))))


def test_untrained_adapter_is_identity_and_training_improves_held_out_retrieval() -> None:
    train_q, train_d = _task(1)
    test_q, test_d = _task(2)
    adapter = EmbeddingAdapter(AdapterParams(epochs=60, learning_rate=5e-3, batch_size=64), base="toy")
    val_q, val_d = _task(4, n=100)
    adapter.fit(train_q, train_d, validation=(val_q, val_d, [str(i) for i in range(100)]))
    assert len(adapter.validation) == 61 and adapter.best_epoch > 0
    before = _accuracy(test_q, test_d)
    after = _accuracy(adapter.transform(test_q, "query"), adapter.transform(test_d, "document"))
    assert before < 0.3 and after > before + 0.4
    assert adapter.history[-1] < adapter.history[0]
    fresh = EmbeddingAdapter(AdapterParams(kind="mlp", rank=8, epochs=0), base="toy").fit(train_q[:4], train_d[:4])
    assert np.allclose(fresh.transform(test_q), test_q, atol=1e-5)  # zero-initialised residual = identity


def test_save_load_round_trip_and_embedder_wrap(tmp_path: Path) -> None:
    q, d = _task(3, n=64)
    adapter = EmbeddingAdapter(AdapterParams(rank=4, side="both", epochs=3), base="toy").fit(q, d)
    adapter.save(tmp_path / "ad")
    loaded = EmbeddingAdapter.load(tmp_path / "ad")
    assert loaded.base == "toy" and loaded.params == adapter.params
    assert np.allclose(loaded.transform(q), adapter.transform(q), atol=1e-6)
    assert np.allclose(loaded.transform(d, "document"), adapter.transform(d, "document"), atol=1e-6)

    class Fixed(Embedder):
        name, dim = "toy", 32

        def encode_documents(self, texts, batch_size=32):  # type: ignore[no-untyped-def]
            return d[: len(texts)]

    wrapped = AdapterEmbedder(Fixed(), loaded, name="toy+adapter")
    out = wrapped.encode_queries(["a", "b"])
    assert out.shape == (2, 32) and np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
