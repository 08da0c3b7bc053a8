"""Raw sentences for domain pre-training (TSDAE, MLM): what the corpus says, with no pairs needed.

Sentences come from the corpus chunks training may read (held-out and evaluation documents excluded), are
split with the corpus' own sentence splitter (German legal abbreviations included), deduplicated, and sampled.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from adaptlab.corpus.sentences import split_sentences

MIN_SENTENCE_WORDS = 6
"""Shorter pieces (headings, list numbers, "Ende der Tabelle") teach the encoder nothing about the domain."""
MAX_SENTENCE_WORDS = 120
"""Longer pieces are tables or run-on lists; they are cut to this many words."""


def pretraining_sentences(chunks: Iterable[tuple[str, str]], excluded_docs: set[str], limit: int,
                          seed: int) -> list[str]:
    """Up to `limit` distinct sentences of the (doc_id, text) chunks outside `excluded_docs`, sampled
    reproducibly, in corpus order."""
    sentences: dict[str, None] = {}
    for doc_id, text in chunks:
        if doc_id in excluded_docs:
            continue
        for sentence in split_sentences(text):
            words = sentence.split()
            if len(words) >= MIN_SENTENCE_WORDS:
                sentences.setdefault(" ".join(words[:MAX_SENTENCE_WORDS]))
    found = list(sentences)
    if len(found) <= limit:
        return found
    keep = set(random.Random(seed).sample(range(len(found)), limit))
    return [s for i, s in enumerate(found) if i in keep]


__all__ = ["MIN_SENTENCE_WORDS", "pretraining_sentences"]
