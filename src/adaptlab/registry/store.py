"""Registered models and their versions in MLflow's model registry (the workspace's sqlite store by default).

A version records what to load (`adaptlab.model`: a zoo name or an immutable snapshot folder), its held-out
metrics (`adaptlab.metrics`, JSON `dataset/metric → value`) and its lineage (`lineage.*` tags: base model,
config, data, the run that trained it). Aliases `champion` and `challenger` say what is served. MLflow keeps
no alias history, so the registered model carries two tags of its own: the stack of former champions
(what `rollback` returns to) and a bounded log of alias events (what `registry list --history` shows).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from adaptlab.errors import AdaptlabError
from adaptlab.registry.gate import GateResult, quality_gate
from adaptlab.tracking.mlflow_runs import _import_mlflow
from adaptlab.workspace import Workspace

DEFAULT_NAME = "embedder"
CHAMPION, CHALLENGER = "champion", "challenger"
ALIASES = (CHAMPION, CHALLENGER)
MODEL_TAG = "adaptlab.model"
METRICS_TAG = "adaptlab.metrics"
PRIMARY_TAG = "adaptlab.primary_metric"
STACK_TAG = "adaptlab.champion_stack"
EVENTS_TAG = "adaptlab.alias_events"
LINEAGE_PREFIX = "lineage."
MAX_EVENTS = 50
MAX_TAG_CHARS = 5000


class GateRefused(AdaptlabError):
    """The quality gate refused a promotion (the message says why and how to force it)."""


@dataclass(frozen=True)
class Version:
    """One registered model version as adaptlab sees it."""

    name: str
    version: str
    model: str
    source: str
    metrics: dict[str, float]
    primary_metric: str
    lineage: dict[str, str]
    aliases: tuple[str, ...]
    created_ms: int
    run_id: str | None = None
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "aliases": list(self.aliases)}


@dataclass(frozen=True)
class Promotion:
    version: Version
    alias: str
    previous: str | None
    gate: GateResult | None
    forced: bool = False


@dataclass
class Event:
    at: float
    action: str
    alias: str
    version: str
    previous: str | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class ModelRegistry:
    """What `adaptlab registry` and the server call; the MLflow client is created on first use."""

    def __init__(self, workspace: Workspace, tracking_uri: str | None = None) -> None:
        self.workspace = workspace
        self.uri = tracking_uri or workspace.tracking_uri
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            mlflow = _import_mlflow()
            self._client = mlflow.MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        return self._client

    # ---- reading -----------------------------------------------------------------------------
    def names(self) -> list[str]:
        return sorted(m.name for m in self.client.search_registered_models())

    def _model(self, name: str) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_registered_model(name)
        except MlflowException:
            raise AdaptlabError(
                f"no registered model '{name}' in {self.uri}; register one with "
                f"`adaptlab registry register MODEL --name {name}`"
            ) from None

    def aliases(self, name: str) -> dict[str, str]:
        """alias → version, one cheap query (the server polls this)."""
        return {a: str(v) for a, v in self._model(name).aliases.items()}

    def versions(self, name: str) -> list[Version]:
        """Every version, newest first."""
        by_version: dict[str, list[str]] = {}
        for alias, version in self.aliases(name).items():  # search results carry no aliases
            by_version.setdefault(version, []).append(alias)
        found = self.client.search_model_versions(f"name='{name}'")
        return sorted(
            (self._version(v, by_version.get(str(v.version))) for v in found),
            key=lambda v: int(v.version),
            reverse=True,
        )

    def version(self, name: str, version: str | int) -> Version:
        from mlflow.exceptions import MlflowException

        self._model(name)
        try:
            return self._version(self.client.get_model_version(name, str(version)))
        except MlflowException:
            known = ", ".join(v.version for v in self.versions(name)) or "none"
            raise AdaptlabError(f"'{name}' has no version {version}; versions: {known}") from None

    def by_alias(self, name: str, alias: str) -> Version | None:
        version = self.aliases(name).get(alias)
        return self.version(name, version) if version else None

    def events(self, name: str) -> list[dict[str, Any]]:
        return _json_tag(self._model(name).tags, EVENTS_TAG, [])

    def _version(self, mv: Any, aliases: list[str] | None = None) -> Version:
        tags = dict(mv.tags or {})
        return Version(
            name=mv.name,
            version=str(mv.version),
            model=tags.get(MODEL_TAG, mv.source),
            source=mv.source,
            metrics={k: float(v) for k, v in _json_tag(tags, METRICS_TAG, {}).items()},
            primary_metric=tags.get(PRIMARY_TAG, ""),
            lineage={
                k.removeprefix(LINEAGE_PREFIX): v for k, v in tags.items() if k.startswith(LINEAGE_PREFIX)
            },
            aliases=tuple(sorted(aliases if aliases is not None else mv.aliases or [])),
            created_ms=int(mv.creation_timestamp or 0),
            run_id=mv.run_id or None,
            description=mv.description or "",
        )

    # ---- writing -----------------------------------------------------------------------------
    def register(
        self,
        name: str,
        model: str,
        source: str,
        metrics: dict[str, float],
        primary_metric: str,
        lineage: dict[str, str],
        run_id: str | None = None,
        description: str = "",
    ) -> Version:
        """A new version of `name` (the registered model is created on first use)."""
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(name)
        except MlflowException:
            self.client.create_registered_model(name, description="registered by adaptlab")
        tags = {
            MODEL_TAG: model,
            METRICS_TAG: json.dumps(metrics, sort_keys=True),
            PRIMARY_TAG: primary_metric,
            **{f"{LINEAGE_PREFIX}{k}": _clip(v) for k, v in lineage.items() if v not in (None, "")},
        }
        mv = self.client.create_model_version(name, source, run_id=run_id, tags=tags, description=description)
        self._log(name, Event(time.time(), "register", "", str(mv.version), note=model))
        return self.version(name, mv.version)

    def promote(
        self,
        name: str,
        version: str | int,
        alias: str = CHAMPION,
        force: bool = False,
        min_delta: float = 0.0,
    ) -> Promotion:
        """Point `alias` at `version`; for the champion the quality gate decides unless `force`."""
        if alias not in ALIASES:
            raise AdaptlabError(f"unknown alias '{alias}'; use {' or '.join(ALIASES)}")
        target = self.version(name, version)
        current = self.by_alias(name, alias)
        if current and current.version == target.version:
            raise AdaptlabError(f"version {target.version} of '{name}' is already the {alias}")
        gate = None
        if alias == CHAMPION and current is not None:
            primary = target.primary_metric or current.primary_metric
            gate = quality_gate(
                target.metrics,
                current.metrics,
                primary,
                f"v{target.version}",
                f"champion v{current.version}",
                min_delta,
            )
            if not gate.passed and not force:
                raise GateRefused(f"quality gate: {gate.reason}")
        self.client.set_registered_model_alias(name, alias, target.version)
        if alias == CHAMPION:
            if current is not None:
                stack = _json_tag(self._model(name).tags, STACK_TAG, [])
                self._set_tag(name, STACK_TAG, json.dumps([*stack, current.version][-MAX_EVENTS:]))
            if CHALLENGER in target.aliases:  # the challenger won: nothing left to compare against
                self.client.delete_registered_model_alias(name, CHALLENGER)
        forced = bool(gate and not gate.passed)
        self._log(
            name,
            Event(
                time.time(),
                "promote",
                alias,
                target.version,
                current.version if current else None,
                "forced past the quality gate" if forced else (gate.reason if gate else ""),
            ),
        )
        return Promotion(target, alias, current.version if current else None, gate, forced)

    def rollback(self, name: str) -> tuple[str, str]:
        """Make the previous champion the champion again; returns (from, to)."""
        current = self.aliases(name).get(CHAMPION)
        stack = [v for v in _json_tag(self._model(name).tags, STACK_TAG, []) if v != current]
        existing = {v.version for v in self.versions(name)}
        while stack and stack[-1] not in existing:
            stack.pop()
        if not stack or current is None:
            raise AdaptlabError(f"'{name}' has no previous champion to roll back to")
        previous = stack.pop()
        self.client.set_registered_model_alias(name, CHAMPION, previous)
        self._set_tag(name, STACK_TAG, json.dumps(stack))
        self._log(name, Event(time.time(), "rollback", CHAMPION, previous, current))
        return current, previous

    def clear_alias(self, name: str, alias: str) -> None:
        current = self.aliases(name).get(alias)
        if current is None:
            raise AdaptlabError(f"'{name}' has no {alias}")
        self.client.delete_registered_model_alias(name, alias)
        self._log(name, Event(time.time(), "clear", alias, current))

    def _set_tag(self, name: str, key: str, value: str) -> None:
        self.client.set_registered_model_tag(name, key, value)

    def _log(self, name: str, event: Event) -> None:
        events = _json_tag(self._model(name).tags, EVENTS_TAG, [])
        events.append({k: v for k, v in event.__dict__.items() if v not in (None, "", {})})
        while events and len(json.dumps(events)) > MAX_TAG_CHARS:
            events.pop(0)
        self._set_tag(name, EVENTS_TAG, json.dumps(events[-MAX_EVENTS:]))


def _json_tag(tags: dict[str, str], key: str, default: Any) -> Any:
    raw = tags.get(key)
    if not raw:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return default


def _clip(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= MAX_TAG_CHARS else text[: MAX_TAG_CHARS - 1] + "…"
