"""Duplicate removal and the train/val/test split, for Examples and PreferencePairs alike.

Exact duplicates: same normalised prompt and answer. Near duplicates: MinHash over word 3-grams with
banded LSH (the standard recipe, e.g. the `datasketch` library and the deduplication of The Pile), then an
exact Jaccard check of each candidate pair; the first row of a near-duplicate group is kept.
The split is by `source` (a law, a document, a file), so no source's rows land in two splits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
_WORD = re.compile(r"\w+", re.UNICODE)
_PRIME = (1 << 61) - 1


def normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _row_text(item: Any) -> str:
    return "\n".join(m["content"] for m in item.messages)


@dataclass
class DedupeReport:
    kept: int
    exact: int
    near: int


def _shingles(text: str, n: int = 3) -> set[str]:
    words = normalise(text).split()
    return {" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def _minhash(shingles: set[str], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    hashes = np.array(
        [int.from_bytes(hashlib.blake2b(s.encode(), digest_size=7).digest(), "little") for s in shingles],
        dtype=np.uint64,
    )
    # (a*h + b) mod p in uint64 with p = 2^61-1 would overflow; a 32-bit slice of h keeps it exact
    values = (np.outer(a, hashes & np.uint64(0xFFFFFFFF)) + b[:, None]) % np.uint64(_PRIME)
    return values.min(axis=1)


def dedupe(
    items: Sequence[T], threshold: float = 0.9, num_perm: int = 32, bands: int = 16, seed: int = 0
) -> tuple[list[T], DedupeReport]:
    """Items without exact and near duplicates (Jaccard of word 3-grams ≥ `threshold`), order kept."""
    seen: set[str] = set()
    unique: list[T] = []
    for item in items:
        key = hashlib.sha256(normalise(_row_text(item)).encode()).hexdigest()
        if key not in seen:
            seen.add(key)
            unique.append(item)
    exact = len(items) - len(unique)
    if threshold >= 1 or len(unique) < 2:
        return unique, DedupeReport(len(unique), exact, 0)
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 1 << 31, num_perm, dtype=np.uint64)
    b = rng.integers(0, 1 << 31, num_perm, dtype=np.uint64)
    shingles = [_shingles(_row_text(item)) for item in unique]
    rows = num_perm // bands
    buckets: dict[tuple[int, bytes], list[int]] = {}
    dropped: set[int] = set()
    for index, sh in enumerate(shingles):
        signature = _minhash(sh, a, b)
        candidates = set()
        for band in range(bands):
            key = (band, signature[band * rows : (band + 1) * rows].tobytes())
            candidates.update(buckets.get(key, ()))
            buckets.setdefault(key, []).append(index)
        for other in sorted(candidates):
            if other in dropped:
                continue
            jaccard = len(sh & shingles[other]) / max(1, len(sh | shingles[other]))
            if jaccard >= threshold:
                dropped.add(index)
                break
    kept = [item for i, item in enumerate(unique) if i not in dropped]
    return kept, DedupeReport(len(kept), exact, len(dropped))


def _rank(group: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{group}".encode()).hexdigest()


def split_by_source(
    items: Sequence[T], val: float = 0.1, test: float = 0.1, seed: int = 0, key: str = "source"
) -> dict[str, list[T]]:
    """Items grouped by source into train/val/test; every source's rows go to exactly one split.

    Sources are taken in an order fixed by a hash of their names (stable across runs and machines) and
    filled into test, then val, until each holds its fraction of the rows; the rest is train. With
    `key="id"` each row is its own group (for files whose rows share one source).
    """
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(str(getattr(item, key) or item.id), []).append(item)  # type: ignore[attr-defined]
    splits: dict[str, list[T]] = {"train": [], "val": [], "test": []}
    targets = [("test", test * len(items)), ("val", val * len(items))]
    order = sorted(groups, key=lambda g: _rank(g, seed))
    for position, group in enumerate(order):
        name = next((n for n, target in targets if target > 0 and len(splits[n]) < target), "train")
        if position == len(order) - 1 and not splits["train"]:
            name = "train"  # the last group never leaves train empty
        splits[name].extend(groups[group])
    return splits
