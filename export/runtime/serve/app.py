"""The HTTP API (FastAPI): JSON, versioned under ``/v1``, OpenAPI page at ``/docs``.

Every error is JSON ``{"error": "one line"}`` with a 4xx (or 503/507) status;
an unexpected exception is logged with its traceback on the station and
answered ``500 {"error": ...}`` without one. ``Guard`` wraps the whole app:
bearer token, upload size limit (checked while the body arrives, not after),
and the last-resort catch-all.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from vpt_core import __version__
from vpt_core.errors import DiskWriteError, VptError

from .errors import BadRequest, PayloadTooLarge, ServiceError, Unauthorized
from .service import INSUFFICIENT_STORAGE, StationService

log = logging.getLogger("vpt.serve")
OPEN_PATHS = frozenset({"/docs", "/openapi.json"})   # the API's description; every call needs the token
STREAM_KEEPALIVE_S = 15.0
BINARY_BODY = {"requestBody": {"required": True, "content": {
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
    "image/png": {"schema": {"type": "string", "format": "binary"}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "image": {"type": "string", "format": "binary"}}, "required": ["image"]}}}}}
TASK_BODY = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "task": {"type": "string", "format": "binary"}}, "required": ["task"]}}}}}


class TaskChoice(BaseModel):
    name: str


def create_app(service: StationService) -> "Guard":
    app = FastAPI(title="VPT inspection station", version=__version__, redoc_url=None,
                  description="Switch tasks, ask for verdicts, add and roll back tasks, collect results. "
                              "Every result carries the sha256 of the task pack that produced it.")
    _install_error_handlers(app, service)
    _add_task_routes(app, service)
    _add_prediction_routes(app, service)
    _add_result_routes(app, service)
    return Guard(app, service)


# -- routes ------------------------------------------------------------------------------------
def _add_task_routes(app: FastAPI, service: StationService) -> None:
    @app.get("/v1/health", summary="200 while serving; 503 while loading or when the camera is lost")
    async def health() -> JSONResponse:
        status, document = service.health()
        return JSONResponse(document, status_code=status)

    @app.get("/v1/tasks", summary="Every task: classes, prompt shape, image fit, pack sha256, versions")
    async def tasks() -> JSONResponse:
        return JSONResponse(service.describe_tasks())

    @app.put("/v1/task", summary="Switch the current task; answers with the task now in force")
    async def switch(choice: TaskChoice) -> JSONResponse:
        return JSONResponse(service.switch_task(choice.name))

    @app.post("/v1/tasks", status_code=201, openapi_extra=TASK_BODY,
              summary="Add a .vptask (validated like 'vpt bundle add-task'); ?replace=true to replace")
    async def add_task(request: Request, replace: bool = False) -> JSONResponse:
        data = await _uploaded_file(request, "task")
        return JSONResponse(await run_in_threadpool(service.add_task, data, replace), status_code=201)

    @app.delete("/v1/tasks/{name}", summary="Remove a task (not the last one, not the current one)")
    async def remove_task(name: str) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(service.remove_task, name))

    @app.post("/v1/tasks/{name}/rollback", summary="Serve the task's previous version again")
    async def rollback(name: str) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(service.rollback_task, name))


def _add_prediction_routes(app: FastAPI, service: StationService) -> None:
    @app.post("/v1/predict", openapi_extra=BINARY_BODY,
              summary="Classify one picture (raw bytes, or multipart field 'image'); ?task=NAME for this one only")
    async def predict(request: Request, task: str | None = None) -> JSONResponse:
        data = await _uploaded_file(request, "image")
        # Decoding, preprocessing and the engine run all happen on one worker thread: no hand-over between
        # threads beyond the event loop's own (see engine.py).
        return JSONResponse(await run_in_threadpool(service.predict_upload, data, task, time.perf_counter()))


def _add_result_routes(app: FastAPI, service: StationService) -> None:
    @app.get("/v1/results", summary="Results with an id above 'since' (oldest first)")
    async def results(since: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000)) -> JSONResponse:
        ring = service.ring
        items = ring.since(since, limit)
        oldest = ring.oldest_id
        return JSONResponse({"results": items, "last_id": ring.last_id, "oldest_id": oldest,
                             "missed": max(0, oldest - since - 1) if ring.last_id > since else 0})

    @app.get("/v1/results/stream", summary="Live results as server-sent events (event 'result', id = result id)")
    async def stream(request: Request, since: int | None = Query(None, ge=0)) -> StreamingResponse:
        last_event = request.headers.get("last-event-id", "")
        start = int(last_event) if last_event.isdigit() else (service.ring.last_id if since is None else since)
        return StreamingResponse(_events(service, start), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/metrics", summary="Prometheus text format")
    async def metrics() -> Response:
        return Response(service.metrics.text(), media_type=service.metrics.content_type)


async def _events(service: StationService, after: int):
    ring = service.ring
    yield f": vpt station results after id {after}\n\n"
    while not ring.closed:
        items = ring.since(after, 100)
        for record in items:
            yield f"id: {record['id']}\nevent: result\ndata: {json.dumps(record, ensure_ascii=False)}\n\n"
            after = record["id"]
        if not items and not await ring.wait_newer(after, STREAM_KEEPALIVE_S):
            yield ": keep-alive\n\n"


async def _uploaded_file(request: Request, field: str) -> bytes:
    """The body's bytes, or the file in multipart field ``field``."""
    body = await request.body()
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return body
    form = await request.form(max_files=4, max_fields=16)
    try:
        value = form.get(field)
        if value is None:
            raise BadRequest(f"the multipart body has no field {field!r} (fields: {', '.join(form.keys()) or 'none'})")
        if isinstance(value, str):
            raise BadRequest(f"the multipart field {field!r} must be a file, not text")
        return await value.read()
    finally:
        await form.close()


# -- errors ----------------------------------------------------------------------------------------
def _install_error_handlers(app: FastAPI, service: StationService) -> None:
    def answer(status: int, message: str, **details: Any) -> JSONResponse:
        service.metrics.http_errors.labels(str(status)).inc()
        return JSONResponse({"error": message, **details}, status_code=status)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, error: ServiceError) -> JSONResponse:
        return answer(error.status, str(error), **error.details)

    @app.exception_handler(VptError)
    async def vpt_error(request: Request, error: VptError) -> JSONResponse:
        return answer(INSUFFICIENT_STORAGE if isinstance(error, DiskWriteError) else 422, str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(p) for p in item.get('loc', ()))}: {item.get('msg', 'invalid')}"
                 for item in error.errors()]
        return answer(422, "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return answer(error.status_code, str(error.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        # Logged by Guard (with the traceback, on the station only); the caller gets one line.
        return answer(500, f"internal error ({type(error).__name__}); the station's log has the details")


class Guard:
    """Outermost ASGI layer: bearer token, body size limit, and the catch-all for anything unexpected."""

    def __init__(self, app: FastAPI, service: StationService):
        self.app, self.service = app, service
        token = service.options.token
        self._token = token.encode("utf-8") if token else None
        self.max_body = service.options.max_upload_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await self._send_error(send, refusal)
            return
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise self._too_large(received)
            return message

        async def tracked_send(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except Exception as error:  # noqa: BLE001 -- the last resort: log it here, answer one line
            log.error("%s %s failed: %s: %s", scope.get("method"), scope.get("path"), type(error).__name__, error,
                      exc_info=error)
            if not started:
                await self._send_error(send, ServiceError(f"internal error ({type(error).__name__})", 500))

    def _refusal(self, scope) -> ServiceError | None:
        headers = dict(scope.get("headers") or [])
        if self._token is not None and scope.get("path") not in OPEN_PATHS and not self._authorized(headers):
            return Unauthorized("a valid bearer token is required (header 'Authorization: Bearer TOKEN')")
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return BadRequest(f"Content-Length {length.decode('latin-1')!r} is not a number")
            if int(length) > self.max_body:
                return self._too_large(int(length))
        return None

    def _authorized(self, headers: dict[bytes, bytes]) -> bool:
        scheme, _, token = headers.get(b"authorization", b"").partition(b" ")
        # Constant-time comparison of the whole token: timing tells an attacker nothing about its prefix.
        return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._token)

    def _too_large(self, size: int) -> PayloadTooLarge:
        return PayloadTooLarge(f"the upload ({size} bytes or more) is larger than this station accepts "
                               f"({self.max_body} bytes, --max-upload-mb)")

    async def _send_error(self, send, error: ServiceError) -> None:
        self.service.metrics.http_errors.labels(str(error.status)).inc()
        body = json.dumps({"error": str(error)}).encode("utf-8")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if isinstance(error, Unauthorized):
            headers.append((b"www-authenticate", b'Bearer realm="vpt-station"'))
        if isinstance(error, PayloadTooLarge):
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
