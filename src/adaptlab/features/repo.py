"""A Feast feature repo per workspace: `<workspace>/features/` holds the Parquet offline store, the registry,
the SQLite online store (when that is the online store) and a `feature_store.yaml` for the `feast` CLI.

apply → export the features and register entities and views; materialize → export again and copy what
changed since the last run into the online store; read → online features for a page of chunk ids.
The chunk embeddings come from one model's Milvus collection (`config.models[0]` unless `model` is given).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from adaptlab.config import ExperimentConfig
from adaptlab.errors import AdaptlabError
from adaptlab.features.definitions import (
    CHUNK_FEATURES,
    CHUNK_VIEW,
    EMBEDDING_FEATURES,
    EMBEDDING_REFS,
    EMBEDDING_VIEW,
    FEATURE_REFS,
    POPULARITY_FEATURES,
    POPULARITY_REFS,
    POPULARITY_VIEW,
    VIEW_FILES,
    definitions,
)
from adaptlab.features.embeddings import collection_vectors
from adaptlab.features.export import ExportReport, export_features
from adaptlab.features.online import OnlineStore, check_reachable, fail_fast, parse_online
from adaptlab.workspace import Workspace

# Feast's optional Milvus online store warns about its own pydantic field when loaded; it is not ours to fix
warnings.filterwarnings("ignore", message='Field name "vector_enabled"', category=UserWarning)
PROJECT = "adaptlab"
DIGEST_KEY = f"{EMBEDDING_VIEW}@digest"  # in materialized.json: which vectors the online store holds
REPO_DIR = "features"


@dataclass
class MaterializeReport:
    online: str
    export: ExportReport
    views: dict[str, str]  # view → "full" (first run) or "incremental"
    start: dict[str, str | None]
    end: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "online": self.online,
            "export": self.export.as_dict(),
            "views": self.views,
            "start": self.start,
            "end": self.end,
        }


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Feast prints progress to stdout; send it to stderr so `--json` output stays parseable."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


class FeatureRepo:
    """One workspace's Feast repo, pointed at one online store (`sqlite` or a Redis URL)."""

    def __init__(
        self,
        workspace: Workspace,
        online: str | OnlineStore | None = None,
        root: Path | None = None,
        registry_ttl_s: int = 60,
        config: ExperimentConfig | None = None,
        model: str | None = None,
    ) -> None:
        self.workspace = workspace
        self.config = config or ExperimentConfig()
        self.model = model or self.config.models[0]  # whose collection becomes `chunk_embedding`
        self.online = online if isinstance(online, OnlineStore) else parse_online(online)
        self.root = (root or workspace.root / REPO_DIR).resolve()
        self.registry_ttl_s = registry_ttl_s
        self._store: Any | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def registry_path(self) -> Path:
        return self.root / "registry.db"

    @property
    def sqlite_path(self) -> Path:
        return self.root / "online.db"

    @property
    def applied(self) -> bool:
        return self.registry_path.is_file()

    def settings(self) -> dict[str, Any]:
        """The feature_store.yaml content (absolute paths: the file works from any directory)."""
        return {
            "project": PROJECT,
            "provider": "local",
            "registry": {"path": str(self.registry_path), "cache_ttl_seconds": self.registry_ttl_s},
            "offline_store": {"type": "file"},
            "online_store": self.online.feast_config(self.sqlite_path),
            "entity_key_serialization_version": 3,
        }

    def store(self) -> Any:
        """The feast.FeatureStore (built once; importing Feast takes seconds)."""
        if self._store is None:
            try:
                from feast import FeatureStore, RepoConfig
            except ImportError as exc:
                raise AdaptlabError(
                    f"the feature store needs the features extra: pip install 'adaptlab[features]' ({exc.name} missing)"
                ) from None

            self.root.mkdir(parents=True, exist_ok=True)
            self._store = FeatureStore(repo_path=str(self.root), config=RepoConfig(**self.settings()))
        return self._store

    def require_applied(self) -> None:
        if not self.applied:
            raise AdaptlabError(
                f"no feature repo in {self.root}: run `adaptlab features apply --workspace {self.workspace.root}` first"
            )

    # ---- stages --------------------------------------------------------------------------------
    def apply(self) -> ExportReport:
        """Export the features and register entities and views (idempotent; Feast diffs the registry)."""
        check_reachable(self.online)  # apply sets up the online store too: fail before writing anything
        report = self._export()
        (self.root / "feature_store.yaml").write_text(yaml.safe_dump(self.settings(), sort_keys=False))
        with _quiet_stdout():
            self.store().apply(definitions(self.data_dir))
        return report

    def materialize(self, end: datetime | None = None) -> MaterializeReport:
        """Copy new feature rows into the online store: everything on the first run, then what changed.

        The last end time is kept per online store (`materialized.json`), not Feast's one per view: a repo
        materialized into SQLite and then pointed at Redis must fill Redis from the start."""
        self.require_applied()
        check_reachable(self.online)
        end = end or datetime.now(timezone.utc)  # before the export: a row it misses is newer than `end`
        report = self._export()
        store = self.store()
        store.refresh_registry()
        state = self._state()
        done = state.setdefault(self.online.display(), {})
        kinds: dict[str, str] = {}
        starts: dict[str, str | None] = {}
        with _quiet_stdout():
            for view in (CHUNK_VIEW, POPULARITY_VIEW, EMBEDDING_VIEW):
                if view == EMBEDDING_VIEW and report.embeddings_kept:
                    kinds[view], starts[view] = (
                        "skipped",
                        None,
                    )  # Milvus unreadable: the online store keeps its vectors
                    continue
                last = done.get(view)
                if view == EMBEDDING_VIEW and done.get(DIGEST_KEY) != report.embedding_digest:
                    last = None  # re-embedded (or another model): vectors changed but not their event times
                start = datetime.fromisoformat(last) if last else self._earliest(view)
                kinds[view], starts[view] = (
                    ("incremental" if last else "full"),
                    start.isoformat() if start else None,
                )
                if start is not None and start < end:
                    store.materialize(start_date=start, end_date=end, feature_views=[view])
                    done[view] = end.isoformat()
                if view == EMBEDDING_VIEW:
                    done[DIGEST_KEY] = report.embedding_digest
        self._state_path.write_text(json.dumps(state, indent=1), encoding="utf-8")
        return MaterializeReport(self.online.display(), report, kinds, starts, end.isoformat())

    def _export(self) -> ExportReport:
        return export_features(
            self.workspace, self.data_dir, collection_vectors(self.workspace, self.config, self.model)
        )

    @property
    def _state_path(self) -> Path:
        return self.root / "materialized.json"

    def _state(self) -> dict[str, dict[str, str]]:
        try:
            return json.loads(self._state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _earliest(self, view: str) -> datetime | None:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        path = self.data_dir / VIEW_FILES[view]
        column = pq.read_table(path, columns=["event_timestamp"])["event_timestamp"]
        if len(column) == 0:
            return None
        first = pc.min(column).as_py()
        return first.replace(microsecond=0)  # Feast compares at second precision

    def reader(self) -> OnlineFeatures:
        self.require_applied()
        check_reachable(self.online)
        return OnlineFeatures(self)


class OnlineFeatures:
    """Online reads for a page of chunks: chunk metadata and their documents' popularity, one Feast call.

    A chunk's document id comes from the corpus store (one indexed SQLite read, thread-local connection),
    so both entities' features come back in a single `get_online_features` round trip.
    """

    def __init__(self, repo: FeatureRepo) -> None:
        self.repo = repo
        self.store = repo.store()
        self._local = threading.local()
        # Feast's SQLite store shares one connection between threads; redis-py has a connection pool
        self._lock = None if repo.online.is_redis else threading.Lock()
        fail_fast(self.store)

    def doc_ids(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            path = self.repo.workspace.corpus_db
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) if path.is_file() else None
            if conn is None:
                return {}
            self._local.conn = conn
        marks = ",".join("?" * len(chunk_ids))
        return dict(
            conn.execute(
                f"SELECT chunk_id, doc_id FROM chunks WHERE chunk_id IN ({marks})", tuple(chunk_ids)
            ).fetchall()
        )

    def _read(self, features: list[str], rows: list[dict[str, str]]) -> dict[str, list[Any]]:
        if self._lock is None:
            return self.store.get_online_features(features=features, entity_rows=rows).to_dict()
        with self._lock:
            return self.store.get_online_features(features=features, entity_rows=rows).to_dict()

    def popularity(
        self, chunk_ids: Sequence[str], doc_ids: dict[str, str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """chunk id → its document's popularity features: what /search needs, read once per document
        (a page often holds several chunks of one law), so about half the work of `get`."""
        ids = list(dict.fromkeys(chunk_ids))
        docs = doc_ids if doc_ids is not None else self.doc_ids(ids) if ids else {}
        unique = list(dict.fromkeys(d for d in (docs.get(c) for c in ids) if d))
        if not unique:
            return {c: {} for c in ids}
        result = self._read(POPULARITY_REFS, [{"doc_id": d} for d in unique])
        by_doc = {d: {n: result[n][i] for n in POPULARITY_FEATURES} for i, d in enumerate(result["doc_id"])}
        return {c: by_doc.get(docs.get(c, ""), {}) for c in ids}

    def get(
        self, chunk_ids: Sequence[str], doc_ids: dict[str, str] | None = None, embedding: bool = False
    ) -> dict[str, dict[str, Any]]:
        """chunk id → {feature: value}; a feature never materialized (or an unknown chunk) is None.
        `embedding` adds the chunk's `model` and `embedding` (a list of floats), in the same round trip."""
        ids = list(dict.fromkeys(chunk_ids))
        if not ids:
            return {}
        docs = doc_ids if doc_ids is not None else self.doc_ids(ids)
        refs = FEATURE_REFS + (EMBEDDING_REFS if embedding else [])
        result = self._read(refs, [{"chunk_id": c, "doc_id": docs.get(c, "")} for c in ids])
        names = (*CHUNK_FEATURES, *POPULARITY_FEATURES, *(EMBEDDING_FEATURES if embedding else ()))
        out: dict[str, dict[str, Any]] = {}
        for i, chunk_id in enumerate(result["chunk_id"]):
            out[chunk_id] = {name: result[name][i] for name in names}
        return out
