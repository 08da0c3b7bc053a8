"""TSDAE (Wang et al. 2021): the encoder must embed a sentence with most words deleted so well that a decoder
can write the whole sentence back from that one vector. Domain pre-training on raw text, no labels.

sentence-transformers' `DenoisingAutoEncoderLoss` does the training (decoder tied to the encoder); this module
makes its (damaged, original) rows. Its own dataset helper needs NLTK's tokenizer data (a download), so words
are deleted here on whitespace, with a seeded generator, so a re-run trains on the same rows.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any


def delete_words(text: str, ratio: float, rng: random.Random) -> str:
    """`text` with each word deleted with probability `ratio`; at least one word always stays."""
    words = text.split()
    if not words:
        return text
    kept = [w for w in words if rng.random() >= ratio]
    return " ".join(kept) if kept else rng.choice(words)


def denoising_dataset(sentences: Sequence[str], ratio: float, seed: int) -> Any:
    """(damaged, original) rows, the layout `DenoisingAutoEncoderLoss` reads."""
    from datasets import Dataset

    rng = random.Random(seed)
    return Dataset.from_dict({"damaged": [delete_words(s, ratio, rng) for s in sentences],
                              "original": list(sentences)})


def denoising_loss(model: Any) -> Any:
    """The TSDAE loss with a decoder built from the encoder's own weights (tied: no second model to train).

    The decoder is read from the encoder's folder (a local path: nothing is downloaded); its cross-attention
    layers start untrained and are dropped after training, leaving the encoder.
    """
    from sentence_transformers.sentence_transformer.losses import DenoisingAutoEncoderLoss
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the decoder's load report lists the new cross-attention weights: expected
    try:
        return DenoisingAutoEncoderLoss(model, tie_encoder_decoder=True)
    finally:
        hf_logging.set_verbosity(previous)


__all__ = ["delete_words", "denoising_dataset", "denoising_loss"]
