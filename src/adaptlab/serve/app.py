"""The HTTP API and the web page: search, embed, upload + ingest, and cited answers (RAG), over one workspace.

`create_app` builds the app; models, Milvus and the BM25 index load once in the lifespan, so a request
never pays for loading. Errors are JSON `{"detail": ...}` with a 4xx status that says whose mistake it is.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile

from adaptlab.config import ExperimentConfig
from adaptlab.errors import AdaptlabError
from adaptlab.rag.answer import Answer
from adaptlab.rag.ask import make_answer
from adaptlab.rag.context import assemble_context, counter_for
from adaptlab.rag.generators import Generator
from adaptlab.retrieval.dense import SearchHit
from adaptlab.retrieval.rerank import DEFAULT_TOP_N
from adaptlab.serve.feedback import ServingLog, log_path
from adaptlab.serve.heap import freeze_startup_heap, unfreeze_heap
from adaptlab.serve.limits import BodySizeLimit, Limits, run_blocking
from adaptlab.serve.metrics import VARIANT_KEY, MetricsMiddleware, ServeMetrics
from adaptlab.serve.routing import RegistryServing, RoutingTable, Variant
from adaptlab.serve.schemas import (
    DocumentsResponse,
    EmbedRequest,
    EmbedResponse,
    FeedbackRequest,
    FeedbackResponse,
    RagRequest,
    RagResponse,
    SearchRequest,
    SearchResponse,
    hit_fields,
)
from adaptlab.serve.query_params import openapi_query, parse_query
from adaptlab.serve.query_process import EncoderProcessError
from adaptlab.serve.service import MissingCollectionError, NotFoundError, Service
from adaptlab.serve.uploads import upload_path

T = TypeVar("T")
STATIC = Path(__file__).parent / "static"
TOKEN_ENV = "ADAPTLAB_API_TOKEN"
SESSION_HEADER = "X-Session-Id"
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
    serving: RegistryServing | None = None,
    drift: Any | None = None,
) -> FastAPI:
    """The app over `workspace`, serving `model` (or several; the first is the default).

    `token` protects the mutating endpoint (`/documents`); without one, uploads are switched off.
    `generator`: "extractive" (default), "smollm2-135m", "gemma3-270m", or "auto" (SmolLM2 when installed, else extractive).
    `serving`: serve the models a registry alias points at (A/B with the challenger, hot swaps) instead of
    `model`. `drift`: a `monitor.online.DriftOptions` to test query windows against a reference.
    """
    limits = limits or Limits()
    models = [model] if isinstance(model, str) else list(model)
    service = Service(workspace, [] if serving else models, generator, config, milvus_uri, serving)
    metrics = ServeMetrics()
    service.on_swap.append(lambda table: _swap_metrics(metrics, table, initial=not service.watcher.stats.swaps))
    serving_log = ServingLog(log_path(service.session.workspace.root))
    session_header = config.serve.session_header if config else SESSION_HEADER
    ranker = _feature_ranker(config, service)
    monitor = _drift_monitor(drift, service, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_blocking(service.start, timeout=limits.ingest_timeout_s)  # the generator may load an LLM
        if monitor:
            monitor.start()
        freeze_startup_heap()  # full GC passes over the loaded models stalled every request ~0.4 s
        yield
        unfreeze_heap()
        if monitor:
            monitor.close()
        service.close()
        serving_log.close()

    app = FastAPI(
        title="adaptlab", version="0.1.0", lifespan=lifespan,
        description="Search, embed, upload and ask (RAG with citations) over an adaptlab workspace.",
    )
    app.add_middleware(BodySizeLimit, limit=limits.max_body_bytes, upload_limit=limits.max_upload_bytes,
                       upload_paths=("/documents",))
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # outermost: times everything, 413s included
    _add_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.service, app.state.metrics, app.state.serving_log, app.state.drift = service, metrics, serving_log, monitor

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

    async def searched(query: str, k: int, mode: str, filter: str | None, model: str | None,
                       self_query: bool = False, expand: bool = False, rerank: str | None = None,
                       rerank_top: int = DEFAULT_TOP_N) -> list[SearchHit]:
        return await settled(service.search(query, k, mode, filter, model, self_query, expand, rerank, rerank_top),
                             limits.search_timeout_s)

    def routed(request: Request, response: Response | None, model: str | None, session: str | None) -> Variant:
        """The variant for this request, recorded where /metrics and the client can see it."""
        variant = service.route(model, session or request.headers.get(session_header))
        request.scope[VARIANT_KEY] = variant.name
        if response is not None:
            response.headers["X-Variant"] = variant.name
            if variant.version:
                response.headers["X-Model-Version"] = variant.version
        return variant

    def record(endpoint: str, variant: Variant, query: str, mode: str, session: str | None, request: Request,
               hits: list[SearchHit], took_ms: float) -> str:
        request_id = uuid.uuid4().hex
        top = float(hits[0].score) if hits else None
        if top is not None:
            metrics.top_score.labels(variant.name).observe(top)
        serving_log.search({"request_id": request_id, "at": time.time(), "variant": variant.name,
                            "session": session or request.headers.get(session_header), "version": variant.version,
                            "model": variant.model, "endpoint": endpoint, "mode": mode, "query": query,
                            "latency_ms": took_ms, "top_score": top, "hits": len(hits)})
        if monitor:
            monitor.observe(query)
        return request_id

    async def run_search(req: SearchRequest, request: Request, response: Response) -> SearchResponse:
        start = time.perf_counter()
        variant = routed(request, response, req.model, req.session)
        hits = await searched(req.query, req.k, req.mode, req.filter, variant.model, req.self_query, req.expand,
                              req.rerank, req.rerank_top)
        if ranker is not None:  # popularity boost / rating filter from the online feature store
            hits = await run_blocking(ranker, hits, timeout=limits.search_timeout_s)
        took = round((time.perf_counter() - start) * 1000, 2)
        request_id = record("/search", variant, req.query, req.mode, req.session, request, hits, took)
        return SearchResponse(query=req.query, mode=req.mode, model=variant.model, took_ms=took,
                              hits=[hit_fields(h.as_dict()) for h in hits],
                              variant=variant.name if service.watcher else None, version=variant.version,
                              request_id=request_id)

    @app.get("/search", openapi_extra=openapi_query(SearchRequest))
    async def search_get(request: Request, response: Response) -> SearchResponse:
        """Ranked chunks for a query (query string parameters)."""
        return await run_search(parse_query(SearchRequest, request.query_params), request, response)

    @app.post("/search")
    async def search_post(req: SearchRequest, request: Request, response: Response) -> SearchResponse:
        """Ranked chunks for a query (JSON body)."""
        return await run_search(req, request, response)

    @app.post("/feedback", status_code=202)
    async def feedback(req: FeedbackRequest, request: Request) -> FeedbackResponse:
        """A click on a hit or a 1–5 rating of a search's results, attributed to the variant that answered."""
        variant = serving_log.variant_of(req.request_id)
        request.scope[VARIANT_KEY] = variant or "unknown"
        serving_log.feedback({**req.model_dump(), "at": time.time(), "variant": variant,
                              "session": req.session or request.headers.get(session_header)})
        metrics.feedback.labels(variant or "unknown", req.kind).inc()
        if req.rating is not None:
            metrics.rating.labels(variant or "unknown").observe(req.rating)
        return FeedbackResponse(accepted=True, variant=variant)

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        """Prometheus text format: requests, latency and errors per endpoint and variant, swaps, drift."""
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

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
    async def rag(req: RagRequest, request: Request) -> Any:
        """Answer a question from the top-k chunks, citing them as [1], [2], …; `stream` for SSE."""
        start = time.perf_counter()
        variant = routed(request, None, req.model, req.session)
        sources = await searched(req.question, req.k, req.mode, req.filter, variant.model, req.self_query, req.expand,
                                 req.rerank, req.rerank_top)
        record("/rag", variant, req.question, req.mode, req.session, request, sources,
               round((time.perf_counter() - start) * 1000, 2))
        generate = service.generator
        assert generate is not None  # set in the lifespan, before any request
        sources = assemble_context(sources, req.context_tokens, counter_for(generate)).sources
        if req.stream:
            return StreamingResponse(_sse(req.question, sources, generate), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        text = await run_blocking(lambda: "".join(generate.stream(req.question, sources)) if sources else "",
                                  timeout=limits.rag_timeout_s)
        return _answer_payload(make_answer(req.question, text, sources, generate))

    return app


def _swap_metrics(metrics: ServeMetrics, table: RoutingTable, initial: bool) -> None:
    if not initial:
        metrics.swaps.inc()
    metrics.challenger_share.set(table.share)
    for alias in ("champion", "challenger"):
        variant = getattr(table, alias)
        metrics.model_version.labels(alias).set(float(variant.version) if variant and variant.version else 0)


def _feature_ranker(config: ExperimentConfig | None, service: Service) -> Any | None:
    """The online-feature re-ranker when `features:` asks for a boost or a filter (needs the features extra)."""
    if config is None or not config.features.reads_online:
        return None
    from adaptlab.features.ranking import PopularityRanker

    return PopularityRanker.open(service.session.workspace, config.features)


def _drift_monitor(options: Any | None, service: Service, metrics: ServeMetrics) -> Any | None:
    if options is None:
        return None
    from adaptlab.monitor.online import OnlineDrift

    return OnlineDrift(options, service.session.workspace, metrics)


def _add_error_handlers(app: FastAPI) -> None:
    """User mistakes as JSON 4xx: bad input 400, unknown model 404, missing vectors 409, too slow 504."""

    async def adaptlab_error(_: Request, exc: Exception) -> JSONResponse:
        status = (404 if isinstance(exc, NotFoundError) else 409 if isinstance(exc, MissingCollectionError)
                  else 503 if isinstance(exc, EncoderProcessError) else 400)
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
