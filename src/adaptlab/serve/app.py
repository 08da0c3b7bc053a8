"""The HTTP API and the web page: search, embed, upload + ingest, and cited answers (RAG), over one workspace.

`create_app` builds the app; models, Milvus and the BM25 index load once in the lifespan, so a request
never pays for loading. Errors are JSON `{"detail": ...}` with a 4xx status that says whose mistake it is.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile

from adaptlab.config import ExperimentConfig
from adaptlab.errors import AdaptlabError
from adaptlab.rag.answer import Answer
from adaptlab.rag.ask import make_answer
from adaptlab.rag.generators import Generator
from adaptlab.retrieval.dense import SearchHit
from adaptlab.serve.limits import BodySizeLimit, Limits, run_blocking
from adaptlab.serve.schemas import (
    DocumentsResponse,
    EmbedRequest,
    EmbedResponse,
    RagRequest,
    RagResponse,
    SearchRequest,
    SearchResponse,
    hit_fields,
)
from adaptlab.serve.service import MissingCollectionError, NotFoundError, Service
from adaptlab.serve.uploads import upload_path

T = TypeVar("T")
STATIC = Path(__file__).parent / "static"
TOKEN_ENV = "ADAPTLAB_API_TOKEN"
UPLOAD_DIR = "uploads"
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["files"],
            "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
        }}},
    }
}


def create_app(
    workspace: str | Path | None,
    model: str | Sequence[str] = "minilm",
    token: str | None = None,
    generator: str = "extractive",
    limits: Limits | None = None,
    config: ExperimentConfig | None = None,
    milvus_uri: str | None = None,
) -> FastAPI:
    """The app over `workspace`, serving `model` (or several; the first is the default).

    `token` protects the mutating endpoint (`/documents`); without one, uploads are switched off.
    `generator`: "extractive" (default), "smollm2-135m", or "auto" (SmolLM2 when installed, else extractive).
    """
    limits = limits or Limits()
    models = [model] if isinstance(model, str) else list(model)
    service = Service(workspace, models, generator, config, milvus_uri)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_blocking(service.start, timeout=limits.ingest_timeout_s)  # the generator may load an LLM
        yield
        service.close()

    app = FastAPI(
        title="adaptlab", version="0.1.0", lifespan=lifespan,
        description="Search, embed, upload and ask (RAG with citations) over an adaptlab workspace.",
    )
    app.add_middleware(BodySizeLimit, limit=limits.max_body_bytes, upload_limit=limits.max_upload_bytes,
                       upload_paths=("/documents",))
    _add_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def require_token(authorization: Annotated[str | None, Header()] = None) -> None:
        """Bearer token check for mutating endpoints, in constant time."""
        if not token:
            raise HTTPException(403, f"uploads are disabled: start the server with a token (${TOKEN_ENV})")
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise HTTPException(401, "missing or wrong token: send 'Authorization: Bearer <token>'",
                                headers={"WWW-Authenticate": "Bearer"})

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Workspace, corpus counts, served models and whether their collections exist."""
        return await settled(service.health(), limits.search_timeout_s)

    async def searched(query: str, k: int, mode: str, filter: str | None, model: str | None) -> list[SearchHit]:
        return await settled(service.search(query, k, mode, filter, model), limits.search_timeout_s)

    async def run_search(req: SearchRequest) -> SearchResponse:
        start = time.perf_counter()
        hits = await searched(req.query, req.k, req.mode, req.filter, req.model)
        return SearchResponse(query=req.query, mode=req.mode, model=req.model or service.default_model,
                              took_ms=round((time.perf_counter() - start) * 1000, 2),
                              hits=[hit_fields(h.as_dict()) for h in hits])

    @app.get("/search")
    async def search_get(req: Annotated[SearchRequest, Query()]) -> SearchResponse:
        """Ranked chunks for a query (query string parameters)."""
        return await run_search(req)

    @app.post("/search")
    async def search_post(req: SearchRequest) -> SearchResponse:
        """Ranked chunks for a query (JSON body)."""
        return await run_search(req)

    @app.post("/embed")
    async def embed(req: EmbedRequest) -> EmbedResponse:
        """Vectors of the texts under a served model (documents' role; L2-normalised)."""
        name, vectors = await run_blocking(service.embed_texts, req.texts, req.model,
                                           timeout=limits.search_timeout_s)
        return EmbedResponse(model=name, dim=int(vectors.shape[1]), vectors=vectors.round(6).tolist())

    @app.post("/documents", dependencies=[Depends(require_token)], openapi_extra=_UPLOAD_BODY)
    async def documents(request: Request) -> DocumentsResponse:
        """Upload files (multipart field `files`), ingest them and embed them for every served model."""
        form = await request.form(max_files=limits.max_files, max_fields=limits.max_files + 10)
        uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not uploads:
            raise HTTPException(400, "no files: send multipart/form-data with one or more 'files' fields")
        saved = await _save_uploads(uploads, service.session.workspace.root / UPLOAD_DIR)
        report, embedded = await settled(service.ingest_files(saved), limits.ingest_timeout_s)
        return DocumentsResponse(
            saved=[p.name for p in saved],
            ingest=report.as_dict(),
            skipped=[{"file": Path(s.path).name, "reason": s.reason} for s in report.skipped],
            embedded=[{"model": e.model, "collection": e.collection, "embedded_now": e.embedded_now,
                       "vectors": e.vectors_in_collection} for e in embedded],
        )

    @app.post("/rag", response_model=RagResponse,
              responses={200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when stream"}})
    async def rag(req: RagRequest) -> Any:
        """Answer a question from the top-k chunks, citing them as [1], [2], …; `stream` for SSE."""
        sources = await searched(req.question, req.k, req.mode, req.filter, req.model)
        generate = service.generator
        assert generate is not None  # set in the lifespan, before any request
        if req.stream:
            return StreamingResponse(_sse(req.question, sources, generate), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        text = await run_blocking(lambda: "".join(generate.stream(req.question, sources)) if sources else "",
                                  timeout=limits.rag_timeout_s)
        return _answer_payload(make_answer(req.question, text, sources, generate))

    return app


def _add_error_handlers(app: FastAPI) -> None:
    """User mistakes as JSON 4xx: bad input 400, unknown model 404, missing vectors 409, too slow 504."""

    async def adaptlab_error(_: Request, exc: Exception) -> JSONResponse:
        status = 404 if isinstance(exc, NotFoundError) else 409 if isinstance(exc, MissingCollectionError) else 400
        return JSONResponse({"detail": str(exc)}, status_code=status)

    async def timeout(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "the request took too long; try a smaller k or a narrower filter"},
                            status_code=504)

    app.add_exception_handler(AdaptlabError, adaptlab_error)
    app.add_exception_handler(TimeoutError, timeout)


async def _save_uploads(uploads: list[UploadFile], folder: Path) -> list[Path]:
    """Write each upload under `folder` with a sanitised name; a repeated name in one request gets a suffix."""
    folder.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    for upload in uploads:
        target = upload_path(folder, upload.filename)
        stem, suffix, n = target.stem, target.suffix, 2
        while target in saved:
            target, n = folder.resolve() / f"{stem}-{n}{suffix}", n + 1
        with target.open("wb") as out:
            while block := await upload.read(1 << 20):
                out.write(block)
        saved.append(target)
    return saved


async def settled(future: Future[T], timeout: float) -> T:
    """The worker's result for this request; past `timeout` a TimeoutError (a 504), the work itself goes on."""
    return await asyncio.wait_for(asyncio.wrap_future(future), timeout)


def _answer_payload(answer: Answer) -> dict[str, Any]:
    payload = answer.as_dict()
    payload["sources"] = [hit_fields(s) for s in payload["sources"]]
    return payload


def _sse(question: str, sources: list[SearchHit], generate: Generator) -> Iterator[str]:
    """Server-Sent Events: `sources` (numbered), one `token` per text piece, then `done` with the answer."""
    yield _event("sources", [hit_fields({"n": n, **h.as_dict()}) for n, h in enumerate(sources, 1)])
    pieces: list[str] = []
    for piece in generate.stream(question, sources) if sources else iter(()):
        pieces.append(piece)
        yield _event("token", {"text": piece})
    yield _event("done", _answer_payload(make_answer(question, "".join(pieces), sources, generate)))


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
