"""A real uvicorn server on a free loopback port, in a thread, over a workspace built from the fixtures."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TOKEN = "test-token-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_workspace(root: Path) -> Path:
    """Ingest the document fixtures and embed them with MiniLM; returns the workspace folder."""
    from adaptlab.pipeline import Session

    docs = root / "docs"
    shutil.copytree(FIXTURES / "docs", docs)
    workspace = root / "ws"
    with Session.open(workspace, tracking_uri="none") as session:
        session.ingest([docs])
        session.embed("minilm")
    return workspace


@contextmanager
def serving(app: Any, start_timeout: float = 120) -> Iterator[str]:
    """Any ASGI `app` under uvicorn on a free loopback port until the block ends; yields the base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def running_server(workspace: Path, token: str | None = TOKEN, **options: Any) -> Iterator[str]:
    """`create_app` under uvicorn until the block ends; yields the base URL. `options` go to `create_app`."""
    from adaptlab.serve.app import create_app

    with serving(create_app(workspace, "minilm", token=token, generator="extractive", **options)) as url:
        yield url
