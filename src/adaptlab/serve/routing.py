"""Serving by registry alias: which model answers a request, and hot swaps when an alias moves.

The routing table (champion, optional challenger, the challenger's share) is an immutable object behind
one reference. A watcher thread polls the registry's aliases; when they change it loads the new models
(and their vectors) while the old table keeps serving, then replaces the reference in one assignment. A
request reads the table once, so it finishes on the model it started with: nothing is dropped, nothing
waits for the swap. Assignment to A or B hashes the session key, so a user stays in one arm.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adaptlab.errors import AdaptlabError

log = logging.getLogger("adaptlab.serve")

CHAMPION, CHALLENGER = "champion", "challenger"
SALT = "adaptlab-ab-v1"


@dataclass(frozen=True)
class Variant:
    """An arm of the experiment: `name` is the alias (or `default`/`explicit` without a registry)."""

    name: str
    model: str
    version: str | None = None


@dataclass(frozen=True)
class RoutingTable:
    champion: Variant
    challenger: Variant | None = None
    share: float = 0.0

    def pick(self, key: str | None) -> Variant:
        """The challenger for a `share` of session keys (sticky), else the champion; no key → champion."""
        if self.challenger is None or self.share <= 0 or not key:
            return self.champion
        return self.challenger if bucket(key) < self.share else self.champion

    @property
    def variants(self) -> list[Variant]:
        return [self.champion, *([self.challenger] if self.challenger else [])]


def bucket(key: str) -> float:
    """A uniform number in [0, 1) fixed by the key: the same session always lands in the same arm."""
    digest = hashlib.sha256(f"{SALT}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class RegistryServing:
    """How `adaptlab serve --model-alias` serves: registered model, alias, A/B share and poll interval."""

    name: str = "embedder"
    alias: str = CHAMPION
    challenger_share: float = 0.0
    poll_seconds: float = 2.0
    tracking_uri: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.challenger_share <= 1.0:
            raise AdaptlabError(f"--challenger-share {self.challenger_share}: must be between 0 and 1")
        if self.poll_seconds <= 0:
            raise AdaptlabError(f"--poll-seconds {self.poll_seconds}: must be positive")


@dataclass
class SwapStats:
    swaps: int = 0
    failures: int = 0
    last_error: str | None = None
    last_swap_at: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


class AliasWatcher:
    """Keeps a RoutingTable in step with the registry's aliases.

    `prepare(model)` must make a model ready to serve (loaded, vectors present) and is called before the
    table that uses it goes live; `on_swap(table)` is told about each new table (metrics).
    """

    def __init__(
        self,
        registry: Any,
        options: RegistryServing,
        prepare: Callable[[str], None],
        on_swap: Callable[[RoutingTable], None] | None = None,
    ) -> None:
        self.registry = registry
        self.options = options
        self.prepare = prepare
        self.on_swap = on_swap
        self.stats = SwapStats()
        self._table: RoutingTable | None = None
        self._seen: tuple[str | None, str | None] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def table(self) -> RoutingTable:
        table = self._table
        if table is None:
            raise RuntimeError("the routing table is not loaded yet (start the service first)")
        return table

    def refresh(self) -> bool:
        """Read the aliases; when they moved, prepare the new models and swap. True when swapped."""
        with self._lock:
            aliases = self.registry.aliases(self.options.name)
            primary = aliases.get(self.options.alias)
            second = (
                aliases.get(CHALLENGER)
                if self.options.alias == CHAMPION and self.options.challenger_share
                else None
            )
            if (primary, second) == self._seen:
                return False
            if primary is None:
                raise AdaptlabError(
                    f"registered model '{self.options.name}' has no '{self.options.alias}' alias; "
                    f"run `adaptlab registry promote VERSION --name {self.options.name}`"
                )
            champion = self._variant(self.options.alias, primary)
            challenger = self._variant(CHALLENGER, second) if second and second != primary else None
            table = RoutingTable(champion, challenger, self.options.challenger_share if challenger else 0.0)
            if table == self._table:  # e.g. a promotion seen between its two alias writes: nothing to swap
                self._seen = (primary, second)
                return False
            for variant in table.variants:
                self.prepare(variant.model)
            old, self._table, self._seen = self._table, table, (primary, second)
            self.stats.swaps += old is not None
            self.stats.last_swap_at = time.time()
            self.stats.history = [
                *self.stats.history,
                {"at": time.time(), "champion": primary, "challenger": second},
            ][-20:]
            if old is not None:
                log.warning("routing: %s → %s", _describe(old), _describe(table))
            if self.on_swap:
                self.on_swap(table)
            return True

    def _variant(self, alias: str, version: str) -> Variant:
        return Variant(alias, self.registry.version(self.options.name, version).model, version)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="adaptlab-alias-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.wait(self.options.poll_seconds):
            try:
                self.refresh()
            except Exception as exc:  # keep serving the current table; try again at the next poll
                self.stats.failures += 1
                self.stats.last_error = str(exc)
                log.warning(
                    "routing: could not apply the registry's aliases (%s); still serving %s",
                    exc,
                    _describe(self._table),
                )


def _describe(table: RoutingTable | None) -> str:
    if table is None:
        return "nothing"
    parts = [f"{v.name} v{v.version}" for v in table.variants]
    return " + ".join(parts) + (f" ({table.share:.0%} challenger)" if table.challenger else "")
