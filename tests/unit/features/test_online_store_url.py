"""`features.online`: 'sqlite' or a Redis URL, translated into Feast's online_store block."""

from __future__ import annotations

from pathlib import Path

import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.features.local_redis import free_port
from adaptlab.features.online import check_reachable, parse_online


def test_sqlite_is_the_default(tmp_path: Path) -> None:
    for value in (None, "sqlite", " SQLite "):
        store = parse_online(value)
        assert not store.is_redis
        assert store.feast_config(tmp_path / "o.db") == {"type": "sqlite", "path": str(tmp_path / "o.db")}


def test_redis_url_becomes_feasts_connection_string(tmp_path: Path) -> None:
    store = parse_online("redis://:s%40cret@10.0.0.5:6380/2")
    assert store.feast_config(tmp_path) == {
        "type": "redis",
        "connection_string": "10.0.0.5:6380,db=2,password=s@cret,socket_timeout=1.0,socket_connect_timeout=1.0",
    }
    assert "s@cret" not in store.display() and store.display() == "redis://:***@10.0.0.5:6380/2"
    tls = parse_online("rediss://cache.internal")
    assert tls.feast_config(tmp_path)["connection_string"].startswith("cache.internal:6379,db=0,ssl=true,")


@pytest.mark.parametrize(
    "value", ["mysql://x", "redis://", "redis://host:port/0", "redis://h:6379/zero", "feast"]
)
def test_bad_values_name_the_key(value: str) -> None:
    with pytest.raises(AdaptlabError, match=r"features.online"):
        parse_online(value)


def test_unreachable_redis_is_one_line_naming_the_url() -> None:
    pytest.importorskip("redis", reason="needs the features extra: pip install -e '.[features]'")
    port = free_port()  # nothing listens there
    with pytest.raises(AdaptlabError, match=rf"Redis at redis://127.0.0.1:{port}/0 is unreachable") as err:
        check_reachable(parse_online(f"redis://127.0.0.1:{port}/0"), timeout=1)
    assert "\n" not in str(err.value)
