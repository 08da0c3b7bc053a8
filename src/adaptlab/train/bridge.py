"""A query bridge: answer queries in other languages against an English model's stored vectors.

MiniLM's English WordPiece vocabulary is why sentence-level distillation cannot teach it German
(docs/benchmarks.md). The bridge leaves MiniLM and every vector already indexed with it untouched.
English queries (the target model's own language) are embedded by MiniLM as before, so English
retrieval cannot regress. Queries in other languages are embedded by a multilingual encoder
(e5-small-trainable), mapped linearly into MiniLM's space and blended with MiniLM's own vector of the
query, which still catches names and numbers.

The map is a closed-form ridge fit: MiniLM's embedding of each English sentence, predicted from the
encoder's embedding of the German side and of the English side of parallel pairs, and of English-only
sentences. The blend weight is chosen on held-out pairs. Fitting takes about a second once the sentences
are embedded. Saved as one folder: `bridge.json` (which models, which languages stay native, how the map
was fitted) and `bridge_map.npy`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.errors import AdaptlabError
from adaptlab.models.base import Embedder, l2_normalize

BRIDGE_FILE = "bridge.json"
MAP_FILE = "bridge_map.npy"
ROUTE_LANGUAGES = ("de", "en")
"""Languages the router chooses between: the target's own and the languages the map was fitted on."""


def is_bridge_dir(path: Path) -> bool:
    return (Path(path) / BRIDGE_FILE).is_file()


def ridge_map(inputs: np.ndarray, targets: np.ndarray, ridge: float) -> np.ndarray:
    """W minimising ‖[inputs, 1]·W − targets‖² + ridge·‖W‖² (closed form; the last row is the bias)."""
    x = np.hstack([inputs, np.ones((len(inputs), 1), dtype=inputs.dtype)]).astype(np.float64)
    gram = x.T @ x + ridge * np.eye(x.shape[1])
    return np.linalg.solve(gram, x.T @ targets.astype(np.float64)).astype(np.float32)


def apply_map(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The encoder's (normalised) vectors moved into the target's space, L2-normalised."""
    return l2_normalize(l2_normalize(vectors) @ weights[:-1] + weights[-1])


def bridged(mapped: np.ndarray, target_vectors: np.ndarray, native_weight: float) -> np.ndarray:
    """A bridged query: the mapped vector plus `native_weight` × the target's own vector of the same text.

    The target model reads a German question poorly (MiniLM alone: 0.51 on XQuAD de→en), but names, numbers
    and shared words still point it to the right English document, which the map alone loses."""
    return l2_normalize(l2_normalize(mapped) + native_weight * l2_normalize(target_vectors))


NATIVE_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)
"""The blend weights `fit_bridge` chooses from, by held-out parallel pairs."""


@dataclass
class BridgeData:
    """Both models' vectors of the parallel pairs (row-aligned) and of English-only sentences."""

    encoder_english: np.ndarray
    encoder_german: np.ndarray
    target_english: np.ndarray
    target_german: np.ndarray
    encoder_extra: np.ndarray
    target_extra: np.ndarray

    def __post_init__(self) -> None:
        pairs = {len(self.encoder_english), len(self.encoder_german), len(self.target_english),
                 len(self.target_german)}
        if len(pairs) != 1 or len(self.encoder_extra) != len(self.target_extra):
            raise AdaptlabError("bridge data: each model needs one vector per text of each side")
        if len(self.encoder_english) < 10:
            raise AdaptlabError("a bridge needs at least 10 parallel pairs, embedded by both models")


@dataclass
class QueryBridge:
    """What a bridge folder holds: the two models by name, the map and how it was fitted."""

    encoder: str
    target: str
    weights: np.ndarray
    native_weight: float = 0.0
    native_languages: list[str] = field(default_factory=lambda: ["en"])
    ridge: float = 0.01
    pairs: int = 0
    english_texts: int = 0
    sources: list[str] = field(default_factory=list)
    selection: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def save(self, folder: Path, extra: dict[str, object] | None = None) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / MAP_FILE, self.weights)
        meta = {k: v for k, v in asdict(self).items() if k != "weights"}
        meta["base"] = self.target  # what lineage and the model card call the model the bridge extends
        (folder / BRIDGE_FILE).write_text(json.dumps({**meta, **(extra or {})}, indent=2), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: Path) -> QueryBridge:
        folder = Path(folder)
        path = folder / BRIDGE_FILE
        try:
            meta = _read_meta(folder)
            weights = np.load(folder / MAP_FILE)
            bridge = cls(str(meta["encoder"]), str(meta["target"]), weights, float(meta["native_weight"]),
                         list(meta["native_languages"]), float(meta["ridge"]), int(meta["pairs"]),
                         int(meta["english_texts"]), list(meta["sources"]), dict(meta["selection"]),
                         float(meta["seconds"]))
        except (OSError, ValueError, KeyError, TypeError):
            raise AdaptlabError(f"{path}: not a valid bridge (bridge.json or bridge_map.npy unreadable); "
                                "re-run `adaptlab finetune --method bridge`") from None
        if weights.ndim != 2:
            raise AdaptlabError(f"{folder / MAP_FILE}: the map must be a 2-d matrix, got shape {weights.shape}")
        return bridge


def _read_meta(folder: Path) -> dict[str, Any]:
    return json.loads((Path(folder) / BRIDGE_FILE).read_text(encoding="utf-8"))


def bridge_target(folder: Path) -> str:
    """The model whose space (and vector collection) a saved bridge uses, read without loading the map."""
    try:
        return str(_read_meta(folder)["target"])
    except (OSError, ValueError, KeyError, TypeError):
        raise AdaptlabError(f"{Path(folder) / BRIDGE_FILE}: not a valid bridge; re-run `adaptlab finetune "
                            "--method bridge`") from None


def _fit_map(data: BridgeData, rows: np.ndarray, ridge: float) -> np.ndarray:
    """The map from the encoder's vectors of both sides of the chosen pairs (and every English-only
    sentence) onto the target's vector of the English side."""
    inputs = np.vstack([data.encoder_german[rows], data.encoder_english[rows], data.encoder_extra])
    targets = np.vstack([data.target_english[rows], data.target_english[rows], data.target_extra])
    return ridge_map(l2_normalize(inputs), l2_normalize(targets), ridge)


def mrr_at_10(queries: np.ndarray, targets: np.ndarray) -> float:
    """Mean reciprocal rank (cut at 10) of row i of `targets` for query row i, among all target rows."""
    scores = l2_normalize(queries) @ l2_normalize(targets).T
    ranks = (scores > np.diag(scores)[:, None]).sum(axis=1)
    return float(np.where(ranks < 10, 1.0 / (ranks + 1), 0.0).mean())


def fit_bridge(encoder: str, target: str, data: BridgeData, ridge: float = 0.01,
               native_weights: Sequence[float] = NATIVE_WEIGHTS, holdout_fraction: float = 0.1,
               seed: int = 42) -> QueryBridge:
    """Fit the map; choose the blend weight by held-out pairs (German side → English side in the target's
    space, MRR@10), then refit the map on every pair."""
    start = time.perf_counter()
    order = np.random.default_rng(seed).permutation(len(data.encoder_english))
    held = max(1, int(len(order) * holdout_fraction))
    heldout, train = order[:held], order[held:]
    mapped = apply_map(data.encoder_german[heldout], _fit_map(data, train, ridge))
    selection = {f"{w:g}": mrr_at_10(bridged(mapped, data.target_german[heldout], w), data.target_english[heldout])
                 for w in native_weights}
    best = max(native_weights, key=lambda w: selection[f"{w:g}"])
    weights = _fit_map(data, order, ridge)
    return QueryBridge(encoder, target, weights, native_weight=float(best), ridge=ridge, pairs=len(order),
                       english_texts=len(data.encoder_extra), selection=selection,
                       seconds=time.perf_counter() - start)


def native_mask(texts: Sequence[str], native_languages: Sequence[str]) -> np.ndarray:
    """True for each text the target model answers itself (detected in one of its own languages)."""
    from adaptlab.corpus.language import detect_languages

    languages = tuple(dict.fromkeys([*ROUTE_LANGUAGES, *native_languages]))
    found = detect_languages(texts, languages, min_letters=1, min_confidence=0.0)
    return np.array([lang in native_languages for lang, _ in found], dtype=bool)


class BridgeEmbedder(Embedder):
    """Documents and native-language queries: the target model. Other queries: encoder → map, blended with
    the target's own vector of the query."""

    def __init__(self, encoder: Embedder, target: Embedder, bridge: QueryBridge, name: str) -> None:
        if bridge.weights.shape != (encoder.dim + 1, target.dim):
            raise AdaptlabError(f"bridge map is {bridge.weights.shape[0] - 1}→{bridge.weights.shape[1]}-d but "
                                f"'{encoder.name}' is {encoder.dim}-d and '{target.name}' is {target.dim}-d")
        self.encoder, self.target, self.bridge = encoder, target, bridge
        self.name = name
        self.dim = target.dim
        self.max_seq_length = target.max_seq_length

    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self.target.encode_documents(texts, batch_size=batch_size)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self.route(texts, lambda part: self.target.encode_queries(part, batch_size=batch_size),
                          lambda part: self.encoder.encode_queries(part, batch_size=batch_size))

    def route(self, texts: Sequence[str], native: Callable[[list[str]], np.ndarray],
              encoder: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Query vectors: `native` embeds every text with the target; texts in other languages are also
        embedded by `encoder`, mapped and blended (evaluation passes cached encoders here)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        is_native = native_mask(texts, self.bridge.native_languages)
        out = l2_normalize(native(list(texts)))
        if not is_native.all():
            others = [t for t, n in zip(texts, is_native) if not n]
            out[~is_native] = bridged(apply_map(encoder(others), self.bridge.weights), out[~is_native],
                                      self.bridge.native_weight)
        return out

    def count_tokens(self, texts: Sequence[str]) -> list[int] | None:
        return self.target.count_tokens(texts)


__all__ = ["BridgeData", "BridgeEmbedder", "QueryBridge", "apply_map", "bridge_target", "bridged", "fit_bridge",
           "is_bridge_dir", "native_mask", "ridge_map"]
