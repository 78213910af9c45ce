"""The service's state: the store, the network cache, the worker pool, shared lookups."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridtwin.api import compute
from gridtwin.api.models import NetCache, NetEntry, build_problem, read_upload, summarize
from gridtwin.api.optimizer import Optimizer
from gridtwin.api.problems import ApiError
from gridtwin.api.store import Store

__all__ = ["Service", "Settings", "assess_solution_doc", "ingest", "solution_view"]


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
            "evaluations": row["evaluations"],
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


def assess_solution_doc(
    models: tuple[NetEntry, Any, Any, Any], solution: dict[str, Any]
) -> dict[str, Any]:
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


def solution_view(row: Any, full: bool = True) -> dict[str, Any]:
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


def ingest(
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
