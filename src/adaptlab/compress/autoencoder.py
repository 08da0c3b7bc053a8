"""A small autoencoder (torch, CPU, seconds): a learned non-linear reduction to `out_dim` dimensions.

The encoder is trained on the corpus to reconstruct each vector and to keep the cosine similarities
between vectors of a batch; only the encoder is needed afterwards (queries and documents go through it).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from adaptlab.compress.projection import Projection


def _encoder(dim: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, out_dim))


class Autoencoder(Projection):
    method = "autoencoder"

    def __init__(self, dim: int, out_dim: int | None = None, steps: int = 400, seed: int = 0) -> None:
        super().__init__(dim, out_dim)
        self.steps, self.seed = steps, seed
        self.encoder: nn.Sequential | None = None

    def fit(self, vectors: np.ndarray) -> Autoencoder:
        """A few hundred Adam steps on one thread: for a model this small, more threads only add overhead
        (and on a busy machine they slow training tenfold)."""
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            self._train(torch.from_numpy(self._check_dim(vectors)))
        finally:
            torch.set_num_threads(threads)
        return self

    def _train(self, data: torch.Tensor) -> None:
        generator = torch.Generator().manual_seed(self.seed)
        torch.manual_seed(self.seed)
        encoder, decoder = _encoder(self.dim, self.out_dim), nn.Linear(self.out_dim, self.dim)
        optimiser = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-3)
        batch = min(256, len(data))
        for _ in range(self.steps):
            x = data[torch.randint(len(data), (batch,), generator=generator)]
            z = nn.functional.normalize(encoder(x), dim=1)
            recon = nn.functional.normalize(decoder(z), dim=1)
            loss = nn.functional.mse_loss(recon, x) * self.dim + nn.functional.mse_loss(z @ z.T, x @ x.T)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        self.encoder = encoder.eval()

    def project(self, vectors: np.ndarray) -> np.ndarray:
        if self.encoder is None:
            raise RuntimeError(f"{self.name}: call fit() first")
        with torch.no_grad():
            return self.encoder(torch.from_numpy(vectors)).numpy()

    def params(self) -> dict[str, object]:
        return {**super().params(), "steps": self.steps, "seed": self.seed}

    def state(self) -> dict[str, np.ndarray]:
        if self.encoder is None:
            return {}
        return {key: value.numpy() for key, value in self.encoder.state_dict().items()}

    def set_state(self, arrays: dict[str, np.ndarray]) -> None:
        encoder = _encoder(self.dim, self.out_dim)
        encoder.load_state_dict({key: torch.from_numpy(value) for key, value in arrays.items()})
        self.encoder = encoder.eval()
