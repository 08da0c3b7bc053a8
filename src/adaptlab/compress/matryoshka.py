"""Matryoshka truncation: keep the first `out_dim` dimensions and renormalise.

Lossless-ish only for models trained with a Matryoshka loss; MiniLM and USE are not, so this measures
what truncation costs a normal model.
"""

from __future__ import annotations

import numpy as np

from adaptlab.compress.projection import Projection


class Matryoshka(Projection):
    method = "matryoshka"

    def fit(self, vectors: np.ndarray) -> Matryoshka:
        self._check_dim(vectors)
        return self

    def project(self, vectors: np.ndarray) -> np.ndarray:
        return vectors[:, : self.out_dim]
