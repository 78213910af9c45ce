"""Optimizations in worker processes: one session at a time per process, progress into SQLite.

A worker is a long-lived process of a pool (heavy imports done once). For a
session it loads the network, builds the reconfiguration problem (both kept
for the next session on the same network), and runs
:func:`~gridtwin.controllers.reconfig.optimize` with an evaluation budget and
no wall-clock limit, so the result depends on the inputs and the seed only,
never on the machine's load. Every better plan and, twice a second, the
number of power flows and the elapsed time go to the session's row.

Stop: the service marks the session ``stopping`` and sends the worker
``SIGUSR1``; the handler checks the mark and raises :class:`StopRequested`
in the optimization, which ends there; the best plan so far is assessed and
saved as the session's solution (status ``stopped``). A worker whose service
died exits within half a second.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from gridtwin.api.store import connect

__all__ = ["StopRequested", "init_worker", "run_session"]

_current: dict[str, Any] = {}
_problems: dict[tuple[str, float, bool], Any] = {}


class StopRequested(Exception):  # noqa: N818  (a request, not an error)
    """Raised inside the optimization when the service asks the session to stop."""


def init_worker(parent_pid: int) -> None:
    """Pool initializer: signals, the orphan watchdog, heavy imports."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGUSR1, _on_stop_signal)

    def watchdog() -> None:
        main = threading.main_thread()
        try:
            while main.is_alive():  # ends with the worker (no daemon left at its shutdown)
                if os.getppid() != parent_pid:
                    os._exit(1)
                time.sleep(0.5)
        except BaseException:  # the interpreter is shutting down under it
            return

    threading.Thread(target=watchdog, daemon=True, name="orphan-watchdog").start()
    import gridtwin.controllers.reconfig  # noqa: F401  (heavy: pandapower, power-grid-model)


def warm() -> int:
    """A no-op task that makes the pool start its processes."""
    return os.getpid()


def _on_stop_signal(signum: int, frame: Any) -> None:
    sid = _current.get("session_id")
    if not sid:
        return
    con = connect(_current["db"])
    try:
        row = con.execute("SELECT status FROM sessions WHERE id = ?", (sid,)).fetchone()
    finally:
        con.close()
    if row is not None and row["status"] == "stopping" and not _current.get("stopping"):
        _current["stopping"] = True
        raise StopRequested


def _problem(task: dict[str, Any]) -> Any:
    from gridtwin.controllers.reconfig import Problem
    from gridtwin.grid.sources import normalize_net, read_net_json

    path = Path(task["network_file"])
    key = (task["network_id"], path.stat().st_mtime, bool(task["all_lines_switchable"]))
    if key not in _problems:
        if len(_problems) > 8:
            _problems.clear()
        cached = Path(task["pickle_file"])
        net = None
        if cached.is_file():
            try:
                net = pickle.loads(cached.read_bytes())  # written by this service
            except Exception:
                net = None
        if net is None:
            net = read_net_json(path)
        _problems[key] = Problem.from_net(
            normalize_net(net, task["network_id"]),
            all_lines_switchable=task["all_lines_switchable"],
            source=task["network_id"],
        )
    return _problems[key]


def run_session(task: dict[str, Any]) -> str:
    """Optimize one session (called in a worker process); returns its final status."""
    db = task["db"]
    sid = task["session_id"]
    _current.clear()
    t0 = time.perf_counter()
    best: dict[str, Any] = {}
    done = threading.Event()
    try:  # from here on a stop signal (StopRequested) ends the session as stopped
        _current.update(session_id=sid, db=db)
        if not _claim(db, sid):
            _current["session_id"] = None
            _finish(db, sid, "stopped", None, t0)
            _current.clear()
            return "stopped"
        problem = _problem(task)
        best["flows0"] = getattr(problem.flow, "n_flows", 0)  # built before the thread reads it
        progress = threading.Thread(
            target=_progress, args=(db, sid, problem, t0, done), daemon=True
        )
        progress.start()
        status, data = _optimize(task, problem, best, t0)  # type: tuple[str, dict[str, Any] | None]
    except StopRequested:
        status, data = _stopped(task, best, t0)
    except Exception as exc:  # the session fails, the worker lives on
        if not _current.get("stopping"):
            done.set()
            _finish(db, sid, "failed", None, t0, error=f"{type(exc).__name__}: {exc}")
            _current.clear()
            return "failed"
        status, data = _stopped(task, best, t0)  # the stop, re-raised by a library as its own
    done.set()
    _current["session_id"] = None
    _finish(db, sid, status, data, t0)
    _current.clear()
    return status


def _claim(db: str, sid: str) -> bool:
    """Record this worker on the session; False if it was asked to stop before it began."""
    con = connect(db)
    try:
        con.execute("UPDATE sessions SET worker_pid = ? WHERE id = ?", (os.getpid(), sid))
        row = con.execute("SELECT status FROM sessions WHERE id = ?", (sid,)).fetchone()
    finally:
        con.close()
    return row is not None and row["status"] == "running"


def _optimize(
    task: dict[str, Any], problem: Any, best: dict[str, Any], t0: float
) -> tuple[str, dict[str, Any]]:
    from gridtwin.api.compute import read_periods, weights_of
    from gridtwin.controllers.reconfig import optimize

    periods_file = task.get("periods_file")
    periods = read_periods(problem, Path(periods_file) if periods_file else None)
    weights = weights_of(task["objective"], task["weights"])
    best.update(problem=problem, periods=periods, weights=weights)

    def on_improvement(plan: Any, objective: float) -> None:
        best["plan"] = plan.copy()
        best["objective"] = float(objective)
        open_lines = [problem.line_index()[~row].tolist() for row in plan]
        con = connect(task["db"])
        try:
            con.execute(
                "UPDATE sessions SET best_objective = ?, best_plan = ? "
                "WHERE id = ? AND status IN ('running', 'stopping')",
                (float(objective), json.dumps(open_lines), task["session_id"]),
            )
        finally:
            con.close()

    solution = optimize(
        problem,
        periods,
        weights=weights,
        time_limit_s=math.inf,
        seed=int(task["seed"]),
        max_evaluations=int(task["max_evaluations"]),
        on_improvement=on_improvement,
    )
    _current["session_id"] = None  # a late stop signal no longer interrupts
    data = solution.to_dict()
    data["source"] = "optimizer"
    return "finished", data


def _stopped(task: dict[str, Any], best: dict[str, Any], t0: float) -> tuple[str, dict | None]:
    _current["session_id"] = None
    if "plan" not in best:
        return "stopped", None
    from gridtwin.api.compute import assess_plan

    problem = best["problem"]
    n = getattr(problem.flow, "n_flows", 0) - best.get("flows0", 0)  # before the assessment's
    start = problem.start_closed
    assessment = assess_plan(problem, best["plan"], best["periods"], best["weights"], start)
    data = {
        "format": "gridtwin-reconfig-solution/1",
        "source": "optimizer",
        "all_lines_switchable": problem.all_lines_switchable,
        "switchable_lines": problem.line_index().tolist(),
        "start_open_lines": problem.line_index()[~start].tolist(),
        "status": "stopped",
        "objective": best["objective"],
        "runtime_s": time.perf_counter() - t0,
        "power_flows": n,
        "evaluations": n,  # one power flow per evaluation (no SearchMemory, see _progress)
        "periods": [
            {
                "open_lines": problem.line_index()[~row].tolist(),
                "closed_lines": problem.line_index()[row].tolist(),
            }
            for row in best["plan"]
        ],
        "assessment": assessment,
    }
    return "stopped", data


def _progress(db: str, sid: str, problem: Any, t0: float, done: threading.Event) -> None:
    """Every 0.5 s: power flows, evaluations and elapsed time of the running session.

    The search runs without a ``SearchMemory``, so each configuration-period
    evaluation is one AC power flow (the library's ``Solution`` then has
    ``evaluations == power_flows``): the live count of power flows is the live
    count of evaluations. At the end the library's own count is written.
    """
    flow = problem.flow
    base = getattr(flow, "n_flows", 0)
    while not done.wait(0.5):
        n = getattr(flow, "n_flows", base) - base
        try:
            con = connect(db)
            try:
                con.execute(
                    "UPDATE sessions SET power_flows = ?, evaluations = ?, elapsed_s = ? "
                    "WHERE id = ? AND status IN ('running', 'stopping')",
                    (n, n, time.perf_counter() - t0, sid),
                )
            finally:
                con.close()
        except sqlite3.Error:  # a progress figure only: the session's end writes the final one
            continue


def _finish(
    db: str,
    sid: str,
    status: str,
    data: dict[str, Any] | None,
    t0: float,
    error: str | None = None,
) -> None:
    from gridtwin.api.store import new_id

    con = connect(db)
    try:
        con.execute("BEGIN IMMEDIATE")
        row = con.execute("SELECT status FROM sessions WHERE id = ?", (sid,)).fetchone()
        if row is None or row["status"] not in ("running", "stopping"):
            con.execute("ROLLBACK")  # the service gave the session up (restart, delete)
            return
        solution_id = None
        if data is not None:
            solution_id = new_id("sol")
            assessment = data.get("assessment") or {}
            con.execute(
                "INSERT INTO solutions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    solution_id,
                    sid,
                    "optimizer",
                    time.time(),
                    data.get("objective"),
                    int(bool(assessment.get("feasible"))),
                    json.dumps(data),
                ),
            )
        con.execute(
            "UPDATE sessions SET status = ?, finished = ?, elapsed_s = ?, solution_id = ?, "
            "error = ?, worker_pid = NULL, power_flows = COALESCE(?, power_flows), "
            "evaluations = COALESCE(?, evaluations) WHERE id = ?",
            (
                status,
                time.time(),
                time.perf_counter() - t0,
                solution_id,
                error,
                (data or {}).get("power_flows"),
                (data or {}).get("evaluations"),
                sid,
            ),
        )
        con.execute("COMMIT")
    finally:
        con.close()
