"""Where online features live: `sqlite` (a file in the workspace, the default) or a Redis URL.

The config speaks URLs (`redis://:password@host:6379/0`, `rediss://` for TLS) because that is what
operators write; Feast's Redis store wants its own `host:port,db=0,password=...` string, so the
translation lives here, next to the reachability check that turns a refused connection into one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from adaptlab.errors import AdaptlabError

SQLITE = "sqlite"
SOCKET_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class OnlineStore:
    """A parsed `features.online` value."""

    kind: str  # "sqlite" | "redis"
    host: str = ""
    port: int = 6379
    db: int = 0
    password: str | None = None
    username: str | None = None
    ssl: bool = False
    url: str = SQLITE

    @property
    def is_redis(self) -> bool:
        return self.kind == "redis"

    def feast_config(self, sqlite_path: Path) -> dict[str, Any]:
        """The `online_store:` block of feature_store.yaml."""
        if not self.is_redis:
            return {"type": "sqlite", "path": str(sqlite_path)}
        parts = [f"{self.host}:{self.port}", f"db={self.db}"]
        if self.password:
            parts.append(f"password={self.password}")
        if self.username:
            parts.append(f"username={self.username}")
        if self.ssl:
            parts.append("ssl=true")
        # a hung server must not hold a search for long: fail fast, /search then serves the page unboosted
        parts += [f"socket_timeout={SOCKET_TIMEOUT_S}", f"socket_connect_timeout={SOCKET_TIMEOUT_S}"]
        return {"type": "redis", "connection_string": ",".join(parts)}

    def display(self) -> str:
        """The URL without its password (for messages and logs)."""
        if not self.is_redis:
            return SQLITE
        auth = f"{self.username or ''}:***@" if self.password else ""
        return f"{'rediss' if self.ssl else 'redis'}://{auth}{self.host}:{self.port}/{self.db}"


def parse_online(value: str | None) -> OnlineStore:
    """`None`/`sqlite` → the workspace's SQLite file; `redis://host:port/db` → Redis. Anything else is an error."""
    text = (value or SQLITE).strip()
    if text.lower() == SQLITE:
        return OnlineStore(SQLITE)
    url = urlparse(text)
    if url.scheme not in ("redis", "rediss") or not url.hostname:
        raise AdaptlabError(
            f"features.online '{text}': expected 'sqlite' or a Redis URL like redis://127.0.0.1:6379/0"
        )
    try:
        port = url.port or 6379
        db = int(url.path.strip("/") or 0)
    except ValueError:
        raise AdaptlabError(
            f"features.online '{text}': the port and the database number (the path, /0) must be integers"
        ) from None
    return OnlineStore(
        "redis",
        host=url.hostname,
        port=port,
        db=db,
        password=unquote(url.password) if url.password else None,
        username=unquote(url.username) if url.username else None,
        ssl=url.scheme == "rediss",
        url=text,
    )


def check_reachable(store: OnlineStore, timeout: float = 2.0) -> None:
    """Ping Redis once; an unreachable or refusing server is a one-line error naming the URL."""
    if not store.is_redis:
        return
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError:
        raise AdaptlabError(
            "a Redis online store needs the features extra: pip install 'adaptlab[features]'"
        ) from None

    client = redis.Redis(
        host=store.host,
        port=store.port,
        db=store.db,
        password=store.password,
        username=store.username,
        ssl=store.ssl,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),  # one ping: redis-py's default retries with backoff take seconds to fail
    )
    try:
        client.ping()
    except redis.exceptions.AuthenticationError as exc:
        raise AdaptlabError(f"Redis at {store.display()} refused the credentials ({exc})") from None
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
        raise AdaptlabError(
            f"Redis at {store.display()} is unreachable ({exc}); start redis-server or fix features.online"
        ) from None
    finally:
        client.close()


def fail_fast(feature_store: Any) -> None:
    """No retries for Feast's Redis client: redis-py retries a refused connection three times with
    exponential backoff (about 7 s), which a request cannot afford. Feast exposes no setting for it, so
    this reaches its online store's client (a private method, checked by the feature-store tests)."""
    config = feature_store.config.online_store
    if getattr(config, "type", "") != "redis":
        return
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = feature_store._get_provider().online_store._get_client(config)
    client.set_retry(Retry(NoBackoff(), 0))
