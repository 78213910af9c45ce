"""The HTTP service: networks, sessions, solutions, power flow and runs (FastAPI).

Resources (all JSON; errors are RFC 9457 problem documents)::

    GET    /health
    POST   /networks                       upload: pandapower JSON, {"simbench": ...},
                                           {"pandapower": ...} or a CGMES zip
    GET    /networks                       list
    GET    /networks/{id}                  summary: buses, lines, switches, loops
    DELETE /networks/{id}
    POST   /networks/{id}/power-flow       per-period voltages, loadings, losses
    POST   /sessions                       network, periods, objective, weights, budget, seed
    GET    /sessions                       list
    GET    /sessions/{id}[?wait_s=N]       status, evaluations, best objective, elapsed time
    POST   /sessions/{id}/start            optimize in a worker process
    POST   /sessions/{id}/stop             stop; the best plan so far becomes the solution
    GET    /sessions/{id}/solution         the best solution and its assessment
    GET    /sessions/{id}/solutions        every solution (optimizer's and users')
    POST   /sessions/{id}/solutions        add a solution of one's own (assessed, stored)
    GET    /sessions/{id}/solutions/{sid}
    POST   /sessions/{id}/assess           assess any solution (not stored)
    GET    /runs                           run directories under DATA/runs
    GET    /runs/{run_id}/kpis             its kpis.json
    GET    /runs/{run_id}/report           its report.html
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridtwin.api.middleware import BearerAuth, BodyLimit
from gridtwin.api.optimizer import Optimizer
from gridtwin.api.problems import MEDIA_TYPE, ApiError, problem_body
from gridtwin.api.routes import router
from gridtwin.api.service import Service, Settings

__all__ = ["Settings", "create_app"]

log = logging.getLogger("gridtwin.api")


def _problem_response(request: Request, err: ApiError) -> Response:
    return Response(
        problem_body(err.status, err.field, err.detail, request.url.path),
        status_code=err.status,
        media_type=MEDIA_TYPE,
        headers=err.headers,
    )


def _validation_field(loc: tuple[Any, ...]) -> str:
    """The field a validation error names: ``weights.losses``, ``periods[0].open_lines``;
    ``body`` for the body as a whole (e.g. a JSON array where an object is expected)."""
    if loc[:1] in (("query",), ("path",), ("header",)):  # a parameter: its name
        loc = loc[1:]
    parts = [p for p in loc if p != "body"]
    if not parts and loc[:1] == ("body",):
        return "body"
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif p in ("str", "list[dict[str,any]]", "function-after[...]"):
            continue
        else:
            out += f".{p}" if out else str(p)
    return out


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        first: dict[str, Any] = dict(errors[0]) if errors else {"loc": (), "msg": "invalid"}
        if first.get("type") == "json_invalid":
            ctx = first.get("ctx", {}).get("error", "")
            return _problem_response(request, ApiError(400, "body", f"not valid JSON ({ctx})"))
        field = _validation_field(tuple(first.get("loc", ())))
        msg = str(first.get("msg", "invalid"))
        if first.get("type") == "extra_forbidden":
            detail = "unknown key; expected only the documented keys (see /docs)"
        elif first.get("type") == "missing":
            detail = "missing; expected a value"
        else:
            msg = msg.removeprefix("Input should be ").removeprefix("Value error, ")
            if msg.startswith("a valid dictionary"):  # pydantic model_type, model_attributes_type
                msg = "a JSON object"
            detail = f"got {first.get('input')!r}; expected {msg}"
        return _problem_response(request, ApiError(422, field, detail))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = "no such resource" if exc.status_code == 404 else str(exc.detail)
        return _problem_response(request, ApiError(exc.status_code, "", detail))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        log.error("internal error on %s: %s: %s", request.url.path, type(exc).__name__, exc)
        return _problem_response(
            request, ApiError(500, "", f"internal error ({type(exc).__name__}); see the log")
        )


def create_app(settings: Settings) -> Any:
    """The ASGI application (FastAPI wrapped in the auth and body-limit middleware)."""
    service = Service(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        n = service.store.mark_interrupted()
        if n:
            log.info("%d session(s) were running when the service stopped: interrupted", n)
        service.optimizer = Optimizer(service.store, settings.max_optimizations)
        yield
        service.optimizer.shutdown()

    app = FastAPI(
        title="gridtwin",
        summary="Switch reconfiguration, assessment and power flow as a service",
        version="1",
        lifespan=lifespan,
    )
    app.state.service = service
    _install_handlers(app)
    app.include_router(router)
    return BearerAuth(BodyLimit(app, settings.max_upload_bytes), settings.token)
