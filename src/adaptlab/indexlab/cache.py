"""An LRU cache in front of any search function: a repeated query (same vector, k and filter) skips the index."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")


class QueryCache(Generic[T]):
    """Least-recently-used results keyed by the query vector's bytes, `k` and the filter expression.

    Vectors are keyed exactly (a hash of their float32 bytes), so a cached answer is the answer the index
    would give; the cache must be cleared when the collection changes (`clear`).
    """

    def __init__(self, search: Callable[[np.ndarray, int, str | None], T], maxsize: int = 1024) -> None:
        self._search = search
        self.maxsize = max(1, int(maxsize))
        self._entries: OrderedDict[bytes, T] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(vector: np.ndarray, k: int, filter: str | None) -> bytes:
        digest = hashlib.blake2b(np.ascontiguousarray(vector, dtype=np.float32).tobytes(), digest_size=16)
        digest.update(f"|{k}|{filter or ''}".encode())
        return digest.digest()

    def __call__(self, vector: np.ndarray, k: int, filter: str | None = None) -> T:
        key = self.key(vector, k, filter)
        if key in self._entries:
            self.hits += 1
            self._entries.move_to_end(key)
            return self._entries[key]
        self.misses += 1
        result = self._search(vector, k, filter)
        self._entries[key] = result
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        return result

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def clear(self) -> None:
        self._entries.clear()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)
