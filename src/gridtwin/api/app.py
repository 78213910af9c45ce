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
    GET    /sessions/{id}                  status, evaluations, best objective, elapsed time
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

import json
import logging
import shutil
import tempfile
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridtwin.api import compute
from gridtwin.api.middleware import BearerAuth, BodyLimit
from gridtwin.api.models import NetCache, NetEntry, build_problem, read_upload, summarize
from gridtwin.api.optimizer import Optimizer
from gridtwin.api.problems import MEDIA_TYPE, ApiError, problem_body
from gridtwin.api.schemas import PowerFlowIn, SessionIn
from gridtwin.api.store import RUNNING, Store, new_id

__all__ = ["Settings", "create_app"]

log = logging.getLogger("gridtwin.api")


@dataclass(frozen=True, slots=True)
class Settings:
    """How the service runs.

    Attributes
    ----------
    data_dir : Path
        Where networks, sessions, solutions and runs are kept.
    token : str or None
        Bearer token every request must carry (``GRIDTWIN_API_TOKEN``).
    max_upload_bytes : int
        Largest request body [bytes].
    max_optimizations : int
        Optimizations at once (worker processes).
    """

    data_dir: Path
    token: str | None = None
    max_upload_bytes: int = 50 * 1024 * 1024
    max_optimizations: int = 2


def _problem_response(request: Request, err: ApiError) -> Response:
    return Response(
        problem_body(err.status, err.field, err.detail, request.url.path),
        status_code=err.status,
        media_type=MEDIA_TYPE,
        headers=err.headers,
    )


def _validation_field(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p != "body"]
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


class Service:
    """The service's state and the lookups every route shares."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.data_dir)
        self.cache = NetCache()
        self.optimizer: Optimizer | None = None

    def running(self) -> Optimizer:
        """The worker pool (there from start-up on)."""
        assert self.optimizer is not None
        return self.optimizer

    def network_row(self, network_id: str, field: str = "network_id") -> Any:
        row = self.store.network(network_id)
        if row is None:
            raise ApiError(
                404, field, f"no network {network_id!r}; expected an id of GET /networks"
            )
        return row

    def session_row(self, session_id: str) -> Any:
        row = self.store.session(session_id)
        if row is None:
            raise ApiError(
                404, "session_id", f"no session {session_id!r}; expected an id of GET /sessions"
            )
        return row

    def entry_of(self, row: Any) -> NetEntry:
        return self.cache.get(
            row["id"], self.store.network_file(row["id"]), bool(row["all_lines_switchable"])
        )

    def network_view(self, row: Any) -> dict[str, Any]:
        return {
            "id": row["id"],
            "name": row["name"],
            "kind": row["kind"],
            "all_lines_switchable": bool(row["all_lines_switchable"]),
            "created": row["created"],
            **json.loads(row["summary"]),
        }

    def session_view(self, row: Any) -> dict[str, Any]:
        config = json.loads(row["config"])
        return {
            "id": row["id"],
            "network_id": row["network_id"],
            "status": row["status"],
            "interrupted": bool(row["interrupted"]),
            "objective": config["objective"],
            "weights": config["weights_full"],
            "max_evaluations": config["max_evaluations"],
            "seed": config["seed"],
            "periods": config["n_periods"],
            "power_flows": row["power_flows"],
            "best_objective": row["best_objective"],
            "elapsed_s": row["elapsed_s"],
            "created": row["created"],
            "started": row["started"],
            "finished": row["finished"],
            "solution_id": row["solution_id"],
            "error": row["error"],
        }

    def session_models(self, row: Any) -> tuple[NetEntry, Any, Any, Any]:
        config = json.loads(row["config"])
        entry = self.entry_of(self.network_row(row["network_id"]))
        problem = entry.require_problem()
        periods_file = self.store.session_dir(row["id"]) / "periods.csv"
        with entry.lock:
            periods = compute.read_periods(
                problem, periods_file if periods_file.is_file() else None
            )
        weights = compute.weights_of(config["objective"], config["weights"])
        return entry, problem, periods, weights

    def run_dir(self, run_id: str) -> Path:
        folder = self.store.runs_dir / run_id
        if "/" in run_id or run_id.startswith(".") or not folder.is_dir():
            raise ApiError(404, "run_id", f"no run {run_id!r}; expected a name of GET /runs")
        return folder


def _service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


Svc = Annotated[Service, Depends(_service)]
router = APIRouter()


@router.get("/health")
def health(svc: Svc) -> dict[str, Any]:
    return {"status": "ok", "running_optimizations": svc.store.n_running()}


# --- networks ---------------------------------------------------------------------------


@router.post("/networks", status_code=201)
async def upload_network(
    request: Request,
    svc: Svc,
    name: str | None = None,
    all_lines_switchable: bool = False,
) -> JSONResponse:
    """Upload a network: pandapower JSON, ``{"simbench": CODE}``, ``{"pandapower": NAME}``
    (``application/json``) or a CGMES zip (``application/zip``)."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    network_id = new_id("net")
    from starlette.concurrency import run_in_threadpool

    view = await run_in_threadpool(
        _ingest, svc.store, svc.cache, network_id, body, content_type, name, all_lines_switchable
    )
    return JSONResponse(view, status_code=201, headers={"Location": f"/networks/{network_id}"})


@router.get("/networks")
def list_networks(svc: Svc) -> list[dict[str, Any]]:
    return [svc.network_view(r) for r in svc.store.networks()]


@router.get("/networks/{network_id}")
def get_network(network_id: str, svc: Svc) -> dict[str, Any]:
    return svc.network_view(svc.network_row(network_id, "network_id"))


@router.delete("/networks/{network_id}", status_code=204)
def delete_network(network_id: str, svc: Svc) -> Response:
    svc.network_row(network_id)
    if any(s["status"] in RUNNING for s in svc.store.sessions(network_id)):
        raise ApiError(
            409, "network_id", "a session on this network is running; expected it stopped"
        )
    svc.store.delete_network(network_id)
    svc.cache.drop(network_id)
    return Response(status_code=204)


@router.post("/networks/{network_id}/power-flow")
def power_flow(network_id: str, body: PowerFlowIn, svc: Svc) -> dict[str, Any]:
    """AC power flow of a configuration, per period."""
    entry = svc.entry_of(svc.network_row(network_id))
    if body.periods is None:
        return compute.power_flow(entry, body.open_lines, None)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "periods.csv"
        path.write_text(compute.periods_csv_text(body.periods), encoding="utf-8")
        return compute.power_flow(entry, body.open_lines, path)


# --- sessions ---------------------------------------------------------------------------


@router.post("/sessions", status_code=201)
def create_session(body: SessionIn, svc: Svc) -> JSONResponse:
    row = svc.network_row(body.network_id)
    entry = svc.entry_of(row)
    problem = entry.require_problem()
    session_id = new_id("ses")
    folder = svc.store.session_dir(session_id)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        n_periods = 1
        if body.periods is not None:
            path = folder / "periods.csv"
            path.write_text(compute.periods_csv_text(body.periods), encoding="utf-8")
            with entry.lock:
                n_periods = compute.read_periods(problem, path).n
        weights = compute.weights_of(body.objective, body.weights.given())
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    config = {
        "objective": body.objective,
        "weights": body.weights.given(),
        "weights_full": compute.weights_dict(weights),
        "max_evaluations": body.max_evaluations,
        "seed": body.seed,
        "n_periods": n_periods,
    }
    svc.store.add_session(session_id, body.network_id, config)
    view = svc.session_view(svc.store.session(session_id))
    return JSONResponse(view, status_code=201, headers={"Location": f"/sessions/{session_id}"})


@router.get("/sessions")
def list_sessions(svc: Svc, network_id: str | None = None) -> list[dict[str, Any]]:
    return [svc.session_view(r) for r in svc.store.sessions(network_id)]


@router.get("/sessions/{session_id}")
def get_session(session_id: str, svc: Svc) -> dict[str, Any]:
    return svc.session_view(svc.session_row(session_id))


@router.post("/sessions/{session_id}/start", status_code=202)
def start_session(session_id: str, svc: Svc) -> JSONResponse:
    row = svc.session_row(session_id)
    if row["status"] in RUNNING:
        raise ApiError(409, "session_id", f"the session is {row['status']}; expected it idle")
    if row["status"] == "finished":
        raise ApiError(
            409, "session_id", "the session has finished; expected a new session to rerun"
        )
    network = svc.network_row(row["network_id"])
    svc.running().start(row, network)
    return JSONResponse(svc.session_view(svc.session_row(session_id)), status_code=202)


@router.post("/sessions/{session_id}/stop", status_code=202)
def stop_session(session_id: str, svc: Svc) -> JSONResponse:
    row = svc.session_row(session_id)
    if row["status"] not in RUNNING:
        raise ApiError(409, "session_id", f"the session is {row['status']}; expected running")
    svc.running().stop(session_id)
    return JSONResponse(svc.session_view(svc.session_row(session_id)), status_code=202)


@router.get("/sessions/{session_id}/solution")
def best_solution(session_id: str, svc: Svc) -> dict[str, Any]:
    """The session's best solution: the optimizer's when it has one, else the best
    feasible user solution; while running, the best plan so far (no assessment)."""
    row = svc.session_row(session_id)
    if row["solution_id"]:
        return _solution_view(svc.store.solution(row["solution_id"]))
    if row["best_plan"]:
        return {
            "id": None,
            "final": False,
            "status": row["status"],
            "objective": row["best_objective"],
            "periods": [{"open_lines": p} for p in json.loads(row["best_plan"])],
        }
    users = [s for s in svc.store.solutions(session_id) if s["feasible"]]
    if users:
        return _solution_view(min(users, key=lambda s: s["objective"]))
    raise ApiError(
        409, "session_id", f"no solution yet (the session is {row['status']}); start it first"
    )


@router.get("/sessions/{session_id}/solutions")
def list_solutions(session_id: str, svc: Svc) -> list[dict[str, Any]]:
    svc.session_row(session_id)
    return [_solution_view(s, full=False) for s in svc.store.solutions(session_id)]


@router.get("/sessions/{session_id}/solutions/{solution_id}")
def get_solution(session_id: str, solution_id: str, svc: Svc) -> dict[str, Any]:
    svc.session_row(session_id)
    sol = svc.store.solution(solution_id)
    if sol is None or sol["session_id"] != session_id:
        raise ApiError(404, "solution_id", f"no solution {solution_id!r} in this session")
    return _solution_view(sol)


@router.post("/sessions/{session_id}/solutions", status_code=201)
def add_solution(session_id: str, solution: dict[str, Any], svc: Svc) -> JSONResponse:
    """Add a solution of one's own: ``{"periods": [{"open_lines": [...]}, ...]}``."""
    row = svc.session_row(session_id)
    data = _assess(svc.session_models(row), solution)
    data["source"] = "user"
    with svc.store.tx() as con:
        sid = svc.store.add_solution(con, session_id, "user", data)
    return JSONResponse(
        _solution_view(svc.store.solution(sid)),
        status_code=201,
        headers={"Location": f"/sessions/{session_id}/solutions/{sid}"},
    )


@router.post("/sessions/{session_id}/assess")
def assess_solution(session_id: str, solution: dict[str, Any], svc: Svc) -> dict[str, Any]:
    """Assess any solution with the session's periods and weights (not stored)."""
    return _assess(svc.session_models(svc.session_row(session_id)), solution)


# --- runs -------------------------------------------------------------------------------


@router.get("/runs")
def list_runs(svc: Svc) -> list[dict[str, Any]]:
    out = []
    for folder in sorted(p for p in svc.store.runs_dir.iterdir() if p.is_dir()):
        out.append(
            {
                "run_id": folder.name,
                "kpis": (folder / "kpis.json").is_file(),
                "report": (folder / "report.html").is_file(),
            }
        )
    return out


@router.get("/runs/{run_id}/kpis")
def run_kpis(run_id: str, svc: Svc) -> Any:
    path = svc.run_dir(run_id) / "kpis.json"
    if not path.is_file():
        raise ApiError(404, "run_id", "this run has no kpis.json (not finished?)")
    return json.loads(path.read_text(encoding="utf-8"))


@router.get("/runs/{run_id}/report")
def run_report(run_id: str, svc: Svc) -> FileResponse:
    path = svc.run_dir(run_id) / "report.html"
    if not path.is_file():
        raise ApiError(404, "run_id", "this run has no report.html")
    return FileResponse(path, media_type="text/html")


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


def _assess(models: tuple[NetEntry, Any, Any, Any], solution: dict[str, Any]) -> dict[str, Any]:
    entry, problem, periods, weights = models
    plan, start = compute.read_plan(problem, solution, periods.n)
    start = problem.start_closed if start is None else start
    with entry.lock:
        assessment = compute.assess_plan(problem, plan, periods, weights, start)
    return {
        "format": "gridtwin-reconfig-solution/1",
        "all_lines_switchable": problem.all_lines_switchable,
        "switchable_lines": problem.line_index().tolist(),
        "start_open_lines": problem.line_index()[~start].tolist(),
        "objective": assessment["cost"]["total"],
        "periods": [
            {
                "open_lines": problem.line_index()[~row].tolist(),
                "closed_lines": problem.line_index()[row].tolist(),
            }
            for row in (plan if len(plan) == periods.n else [plan[0]] * periods.n)
        ],
        "assessment": assessment,
    }


def _solution_view(row: Any, full: bool = True) -> dict[str, Any]:
    data = json.loads(row["data"])
    view = {
        "id": row["id"],
        "session_id": row["session_id"],
        "source": row["source"],
        "final": True,
        "created": row["created"],
        "objective": row["objective"],
        "feasible": bool(row["feasible"]),
    }
    if full:
        view.update({k: v for k, v in data.items() if k not in view})
    return view


def _ingest(
    store: Store,
    cache: NetCache,
    network_id: str,
    body: bytes,
    content_type: str,
    name: str | None,
    all_lines: bool,
) -> dict[str, Any]:
    from gridtwin.api.models import net_to_json
    from gridtwin.grid.sources import normalize_net

    tmp = store.root / "networks" / f".{network_id}.upload"
    try:
        net, kind, default_name = read_upload(body, content_type, tmp)
        net = normalize_net(net, "body")
        problem, reason = build_problem(net, all_lines, "body")
        summary = summarize(net, problem, reason)
        if kind == "pandapower-json":  # the upload is the file (normalizing is repeatable)
            store.network_file(network_id).write_bytes(body)
        else:
            store.network_file(network_id).write_text(net_to_json(net), encoding="utf-8")
        store.write_net_pickle(network_id, net)
        if kind == "cgmes":
            shutil.copyfile(tmp / "upload.zip", store.network_file(network_id).with_suffix(".zip"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    store.add_network(network_id, name or default_name, kind, all_lines, summary)
    cache.put(network_id, NetEntry(net, problem, reason, all_lines))
    row = store.network(network_id)
    assert row is not None
    return {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "all_lines_switchable": all_lines,
        "created": row["created"],
        **summary,
    }
