"""The routes: networks, power flow, sessions, solutions, runs (thin: look up, call, answer)."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from gridtwin.api import compute
from gridtwin.api.problems import ApiError
from gridtwin.api.schemas import PowerFlowIn, SessionIn
from gridtwin.api.service import Service, assess_solution_doc, ingest, solution_view
from gridtwin.api.store import RUNNING, new_id

__all__ = ["router"]


def _service(request: Request) -> Service:
    return request.app.state.service


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
        ingest, svc.store, svc.cache, network_id, body, content_type, name, all_lines_switchable
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
    """Delete a network with its sessions, solutions and files (409 while a session runs)."""
    svc.network_row(network_id)
    if not svc.store.delete_network(network_id):
        raise ApiError(
            409, "network_id", "a session on this network is running; expected it stopped"
        )
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
    if not svc.store.add_session(session_id, body.network_id, config):
        shutil.rmtree(folder, ignore_errors=True)
        raise ApiError(404, "network_id", f"no network {body.network_id!r} (deleted)")
    view = svc.session_view(svc.store.session(session_id))
    return JSONResponse(view, status_code=201, headers={"Location": f"/sessions/{session_id}"})


@router.get("/sessions")
def list_sessions(svc: Svc, network_id: str | None = None) -> list[dict[str, Any]]:
    return [svc.session_view(r) for r in svc.store.sessions(network_id)]


@router.get("/sessions/{session_id}")
async def get_session(
    session_id: str,
    svc: Svc,
    wait_s: Annotated[float, Query(ge=0, le=60)] = 0,
) -> dict[str, Any]:
    """The session's status; with ``wait_s`` > 0 a running session's answer waits until
    it ends or ``wait_s`` seconds have passed (instead of polling)."""
    row = await asyncio.to_thread(svc.session_row, session_id)  # SQLite off the event loop
    if wait_s > 0 and row["status"] in RUNNING:
        ended = svc.running().ended_event(session_id)
        if ended is not None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait_s
            while not ended.is_set() and loop.time() < deadline:
                await asyncio.sleep(0.005)  # an in-memory flag: no database, no thread held
            svc.running().forget(session_id)
        row = await asyncio.to_thread(svc.session_row, session_id)
    return await asyncio.to_thread(svc.session_view, row)


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
        return solution_view(svc.store.solution(row["solution_id"]))
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
        return solution_view(min(users, key=lambda s: s["objective"]))
    raise ApiError(
        409, "session_id", f"no solution yet (the session is {row['status']}); start it first"
    )


@router.get("/sessions/{session_id}/solutions")
def list_solutions(session_id: str, svc: Svc) -> list[dict[str, Any]]:
    svc.session_row(session_id)
    return [solution_view(s, full=False) for s in svc.store.solutions(session_id)]


@router.get("/sessions/{session_id}/solutions/{solution_id}")
def get_solution(session_id: str, solution_id: str, svc: Svc) -> dict[str, Any]:
    svc.session_row(session_id)
    sol = svc.store.solution(solution_id)
    if sol is None or sol["session_id"] != session_id:
        raise ApiError(404, "solution_id", f"no solution {solution_id!r} in this session")
    return solution_view(sol)


@router.post("/sessions/{session_id}/solutions", status_code=201)
def add_solution(session_id: str, solution: dict[str, Any], svc: Svc) -> JSONResponse:
    """Add a solution of one's own: ``{"periods": [{"open_lines": [...]}, ...]}``."""
    row = svc.session_row(session_id)
    data = assess_solution_doc(svc.session_models(row), solution)
    data["source"] = "user"
    with svc.store.tx() as con:
        sid = svc.store.add_solution(con, session_id, "user", data)
    return JSONResponse(
        solution_view(svc.store.solution(sid)),
        status_code=201,
        headers={"Location": f"/sessions/{session_id}/solutions/{sid}"},
    )


@router.post("/sessions/{session_id}/assess")
def assess_solution(session_id: str, solution: dict[str, Any], svc: Svc) -> dict[str, Any]:
    """Assess any solution with the session's periods and weights (not stored)."""
    return assess_solution_doc(svc.session_models(svc.session_row(session_id)), solution)


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
