"""A private, throwaway `redis-server` on a free loopback port: for the tests, the benchmark and trying the
Redis path on a laptop. No persistence (`--save '' --appendonly no`), its files in a temporary folder,
stopped (and waited for) when the context ends.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from adaptlab.errors import AdaptlabError


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_redis(timeout: float = 15.0) -> Iterator[str]:
    """Yield `redis://127.0.0.1:PORT/0` of a fresh redis-server; it is killed when the block ends."""
    binary = redis_server_binary()
    if binary is None:
        raise AdaptlabError("redis-server is not installed (Debian: apt-get install redis-server)")
    import redis

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="adaptlab-redis-") as folder:
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                folder,
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    err = (proc.stderr.read() if proc.stderr else b"").decode(errors="replace").strip()
                    raise AdaptlabError(f"redis-server exited at start: {err[-300:]}")
                try:
                    client.ping()
                    break
                except redis.exceptions.ConnectionError:
                    if time.monotonic() > deadline:
                        raise AdaptlabError(
                            f"redis-server did not answer on port {port} within {timeout:g} s"
                        ) from None
                    time.sleep(0.05)
            client.close()
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            if proc.stderr:
                proc.stderr.close()
