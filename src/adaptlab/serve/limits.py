"""Request limits: sizes checked before a body is read into memory, and time limits on blocking work."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

T = TypeVar("T")

MAX_QUERY_CHARS = 1000
MAX_FILTER_CHARS = 500
MAX_K = 100
MAX_EMBED_TEXTS = 64
MAX_EMBED_CHARS = 4000


@dataclass(frozen=True)
class Limits:
    """Server-wide limits; the per-field ones (query length, k, …) live in the request schemas."""

    max_body_bytes: int = 1 << 20
    max_upload_bytes: int = 20 << 20
    max_files: int = 20
    search_timeout_s: float = 15.0
    rag_timeout_s: float = 180.0
    ingest_timeout_s: float = 600.0


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """413 for bodies over the limit: by Content-Length up front, else while streaming (chunked bodies)."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int, upload_paths: tuple[str, ...]) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"] in self.upload_paths else self.limit
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body over the limit of {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def run_blocking(fn: Callable[..., T], *args: Any, timeout: float) -> T:
    """`fn(*args)` in a worker thread; past `timeout` the request gets a TimeoutError (the thread finishes
    on its own, since Python threads cannot be killed)."""
    return await asyncio.wait_for(anyio.to_thread.run_sync(fn, *args, abandon_on_cancel=True), timeout)
