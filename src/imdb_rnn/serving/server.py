"""The HTTP server of `imdb-rnn serve`: TensorFlow Serving's REST API on Starlette and uvicorn.

    POST /v1/models/<name>:predict             {"instances": [...]} or {"inputs": ...} → predictions
    GET  /v1/models/<name>                     the model's status (TensorFlow Serving's shape)
    GET  /v1/models/<name>/metadata            its signature, classes and batching
    POST /v1/models/<name>:explain             each word's contribution (a run folder's model)
    GET  /v1/models                            every model served: name, classes, version, batching (an extension)
    GET  /healthz, /readyz                     liveness (the process answers), readiness (models loaded, not stopping)
    GET  /                                     a page to try a model in a browser

`/versions/1` may follow the model's name, as in TensorFlow Serving. Request formats: `protocol`.
Every error is JSON, `{"error": "..."}`, with its 4xx status (5xx for the server's own faults, logged as
one line, never a traceback), and names no file. Predictions go through each model's `Batcher`.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from imdb_rnn.errors import UserError
from imdb_rnn.serving.batching import Batcher, QueueFull
from imdb_rnn.serving.protocol import BadRequest, metadata, model_status, parse, predictions, shown
from imdb_rnn.serving.served import ServedModel

RETRY_AFTER = "1"  # seconds, in a 503's Retry-After


@dataclass(frozen=True)
class Limits:
    """`max_batch_size` texts a batch, `max_wait_ms` a request waits for company, `max_queue` requests
    waiting a model, `max_body_bytes` a request body (10 MiB: a 100,000-word review is about 600 KB)."""

    max_batch_size: int = 64
    max_wait_ms: float = 0.0
    max_queue: int = 256
    max_body_bytes: int = 10 * 2**20


def create_app(
    models: Sequence[ServedModel], limits: Limits, stopping: Callable[[], bool] = lambda: False
) -> Starlette:
    """The ASGI application serving `models`; `stopping()` says when the server is shutting down (readiness)."""
    served = {model.name: model for model in models}
    batchers = {
        model.name: Batcher(model.predict, limits.max_batch_size, limits.max_wait_ms, limits.max_queue)
        for model in models
    }
    explaining = dict.fromkeys(served, 0)  # explanations waiting or running, a model

    def model_of(request: Request) -> ServedModel:
        name, version = request.path_params["name"], request.path_params.get("version")
        if name not in served:
            known = ", ".join(map(repr, served))
            raise BadRequest(f"unknown model {shown(name)}: expected one of {known}.", 404)
        if version is not None and version != served[name].version:
            raise BadRequest(f"model {name!r} has no version {shown(version)}: expected {served[name].version}.", 404)
        return served[name]

    async def body_of(request: Request) -> bytes:
        limit, declared = limits.max_body_bytes, request.headers.get("content-length", "")
        too_large = f"request body too large: expected at most {limit} bytes (--max-body-bytes), received"
        if declared.isdigit() and int(declared) > limit:
            raise BadRequest(f"{too_large} {int(declared)}.", 413)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BadRequest(f"{too_large} more.", 413)
            chunks.append(chunk)
        return b"".join(chunks)

    @_answers
    async def predict(request: Request) -> Response:
        model = model_of(request)
        request_texts = parse(await body_of(request))
        probabilities = await batchers[model.name].submit(request_texts.texts)
        return JSONResponse(predictions(probabilities, model.classes, request_texts.columnar))

    @_answers
    async def explain(request: Request) -> Response:
        model = model_of(request)
        texts = parse(await body_of(request)).texts
        if model.run is None:
            raise BadRequest(
                f"cannot explain model {model.name!r}: expected a model served from a run folder, received one "
                "served from an export folder (a SavedModel has no Keras model to take gradients of).",
                501,
            )
        explain_texts = _explainer()
        if explaining[model.name] >= limits.max_queue:
            raise QueueFull()
        explaining[model.name] += 1
        try:
            explain_all = functools.partial(explain_texts, allow_empty=True)  # "" is valid here, as for predict
            explanations = await batchers[model.name].run(explain_all, model.run, texts)
        except UserError as error:  # a review it cannot explain: said without the run's folder
            raise BadRequest(str(error).replace(str(model.run.folder), model.name)) from None
        finally:
            explaining[model.name] -= 1
        return JSONResponse({"explanations": [explanation.to_json() for explanation in explanations]})

    @_answers
    async def status(request: Request) -> Response:
        return JSONResponse(model_status(model_of(request).version))

    @_answers
    async def model_metadata(request: Request) -> Response:
        model = model_of(request)
        return JSONResponse(metadata(model.name, model.version, model.classes, model.details))

    @_answers
    async def list_models(request: Request) -> Response:
        return JSONResponse({"models": [_listed(model, batchers[model.name], limits) for model in models]})

    @_answers
    async def alive(request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    @_answers
    async def ready(request: Request) -> Response:
        if stopping():
            return JSONResponse({"error": "shutting down: finishing the requests in flight."}, 503)
        return JSONResponse({"status": "ready", "models": list(served)})

    @_answers
    async def page(request: Request) -> Response:
        try:
            from imdb_rnn.serving.page import page_html
        except ModuleNotFoundError as error:
            if error.name != "imdb_rnn.serving.page":
                raise
            raise BadRequest(
                "no page: this version of imdb-rnn serves none; the API is under /v1/models.", 404
            ) from None
        return HTMLResponse(page_html())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        for batcher in batchers.values():
            await batcher.start()
        yield
        for batcher in batchers.values():
            await batcher.stop()

    model = "/v1/models/{name}"
    versioned = "/v1/models/{name}/versions/{version}"
    routes = [
        Route("/", page, methods=["GET"]),
        Route("/healthz", alive, methods=["GET"]),
        Route("/readyz", ready, methods=["GET"]),
        Route("/v1/models", list_models, methods=["GET"]),
        *(Route(f"{base}:predict", predict, methods=["POST"]) for base in (model, versioned)),
        *(Route(f"{base}:explain", explain, methods=["POST"]) for base in (model, versioned)),
        *(Route(f"{base}/metadata", model_metadata, methods=["GET"]) for base in (model, versioned)),
        *(Route(base, status, methods=["GET"]) for base in (model, versioned)),
    ]
    handlers = {HTTPException: _http_error}
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)


def _explainer() -> Callable:
    """`imdb_rnn.evaluation.explain.explain`, imported when first asked for; a 501 where it does not exist."""
    try:
        from imdb_rnn.evaluation.explain import explain
    except ModuleNotFoundError as error:
        if error.name != "imdb_rnn.evaluation.explain":
            raise
        raise BadRequest("cannot explain: this version of imdb-rnn has no explanations.", 501) from None
    return explain


def _listed(model: ServedModel, batcher: Batcher, limits: Limits) -> dict[str, Any]:
    statistics = batcher.statistics
    return {
        "name": model.name,
        "classes": list(model.classes),
        "version": model.version,
        "kind": model.details.get("kind"),
        "batching": {
            "max_batch_size": limits.max_batch_size,
            "max_wait_ms": limits.max_wait_ms,
            "max_queue": limits.max_queue,
            "queued": batcher.queued,
            "batches": statistics.batches,
            "texts": statistics.texts,
            "largest_batch": statistics.largest_batch,
            "refused": statistics.refused,
        },
    }


def _answers(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """The handler, with whatever it raises answered as JSON `{"error": ...}`: its own status for a
    `BadRequest`, 503 and Retry-After for a full queue, 500 (and one line on stderr) for anything else."""

    @functools.wraps(handler)
    async def answer(request: Request) -> Response:
        try:
            return await handler(request)
        except BadRequest as error:
            return JSONResponse({"error": str(error)}, error.status)
        except QueueFull:
            message = "the server is busy: its queue of requests is full (--max-queue); try again shortly."
            return JSONResponse({"error": message}, 503, headers={"Retry-After": RETRY_AFTER})
        except ClientDisconnect:
            return Response(status_code=499)  # nobody is listening
        except Exception as error:  # noqa: BLE001 - never a traceback, never the server down
            reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
            print(
                f"imdb-rnn serve: error: {request.method} {request.url.path}: {type(error).__name__}: {reason}",
                file=sys.stderr,
                flush=True,
            )
            return JSONResponse({"error": f"internal error ({type(error).__name__}); the server's log says more."}, 500)

    return answer


async def _http_error(request: Request, error: Exception) -> Response:
    """Starlette's own 404 (no such path) and 405 (wrong method), as JSON."""
    status = getattr(error, "status_code", 500)
    where = shown(f"{request.method} {request.url.path}", 80)
    if status == 405:
        message = f"method not allowed: received {where}; predict and explain take POST, the rest GET."
    else:
        message = f"not found: expected /v1/models/<name>:predict, /v1/models/<name>[/metadata], /v1/models, /healthz, /readyz or /, received {where}."
    return JSONResponse({"error": message}, status, headers=getattr(error, "headers", None))


# Running it --------------------------------------------------------------------------------------------


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to `host:port` (port 0: any free one); a `UserError` when it cannot be bound.

    Made with protocol `IPPROTO_TCP`, as asyncio makes its own: only then does asyncio turn Nagle's
    algorithm off on each connection, without which every answer on a kept-alive connection waited 40 ms
    for the client's delayed acknowledgement (measured: 44 ms a request instead of 1)."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
        )[0]
        listener = socket.socket(family, kind, protocol)
    except OSError as error:
        raise UserError(f"cannot listen on {host}:{port}: {error.strerror or error}.") from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except OSError as error:
        listener.close()
        raise UserError(f"cannot listen on {host}:{port}: {error.strerror or error}.") from None
    return listener


class _Server(uvicorn.Server):
    """uvicorn's server, saying where it listens once it does, and exiting normally after SIGTERM or
    Ctrl-C: uvicorn stops accepting, finishes the requests in flight, then re-raises the signal so that
    the process dies of it; a server that finished its work this way exits 0 instead."""

    def __init__(self, config: uvicorn.Config, started: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_started = started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.on_started()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {number: signal.signal(number, self.handle_exit) for number in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


def serve(models: Sequence[ServedModel], limits: Limits, listener: socket.socket, started: Callable[[], None]) -> str:
    """Serves `models` on `listener` until SIGTERM or Ctrl-C, then finishes the requests in flight;
    `started()` is called once it accepts connections. Returns how it ended: `stopped` (every request
    answered), `forced` (a second Ctrl-C: requests in flight dropped) or `not started`."""
    server: _Server | None = None
    app = create_app(models, limits, stopping=lambda: server is not None and server.should_exit)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", server_header=False)
    server = _Server(config, started)
    server.run(sockets=[listener])
    return "not started" if not server.started else "forced" if server.force_exit else "stopped"
