"""The service's computations over the library: periods, weights, plans, power flow, assessment.

Every function here calls the public entry points that ``gridtwin
reconfigure`` and ``gridtwin assess`` call (``Periods``, ``read_periods_csv``,
``read_solution_json``, ``Weights``, ``assess``) or the power-flow engine
interface (``make_engine``, ``GridState``), and turns their one-line
:class:`~gridtwin.errors.InputError` into a problem naming the request field.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from gridtwin.api.problems import ApiError, from_input_error
from gridtwin.errors import InputError

__all__ = [
    "assess_plan",
    "periods_csv_text",
    "power_flow",
    "read_periods",
    "read_plan",
    "weights_of",
]

WEIGHT_FIELDS = {
    "losses": "loss_cost_per_mwh",
    "reliability": "reliability",
    "switching": "switching_cost",
    "violations": "violation_cost_per_percent_h",
}


def weights_of(objective: str, weights: dict[str, float]) -> Any:
    """Preset weights of ``objective`` with ``weights`` (short names) over them."""
    from gridtwin.controllers.reconfig import Weights

    base = Weights.for_objective(objective)
    return dataclasses.replace(base, **{WEIGHT_FIELDS[k]: float(v) for k, v in weights.items()})


def weights_dict(w: Any) -> dict[str, float]:
    return {short: getattr(w, name) for short, name in WEIGHT_FIELDS.items()}


def periods_csv_text(periods: str | list[dict[str, Any]]) -> str:
    """The periods CSV text of a request: CSV as given, or JSON rows (one object per period)."""
    if isinstance(periods, str):
        return periods
    if not periods:
        raise ApiError(422, "periods", "empty list; expected one object per period")
    columns: list[str] = []
    for t, row in enumerate(periods):
        if not isinstance(row, dict):
            raise ApiError(422, f"periods[{t}]", "expected an object of 'NAME [MW]': number")
        for key in row:
            if key not in columns:
                columns.append(key)
    if "time" in columns:
        columns.remove("time")
        columns.insert(0, "time")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in periods:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return buf.getvalue()


def read_periods(problem: Any, csv_path: Path | None) -> Any:
    """The session's periods: its CSV file, or one hour at the net's own powers."""
    from gridtwin.controllers.reconfig import Periods
    from gridtwin.controllers.reconfig.io import read_periods_csv

    if csv_path is None:
        return Periods.from_net(problem.net)
    try:
        return read_periods_csv(csv_path, problem)
    except InputError as exc:
        raise from_input_error(exc, "periods") from None


def read_plan(
    problem: Any, solution: dict[str, Any], n_periods: int, field: str = ""
) -> tuple[Any, Any]:
    """The plan (closed lines per period) and start of a solution document (the body)."""
    from gridtwin.controllers.reconfig.io import read_solution_json

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "solution.json"
        path.write_text(json.dumps(solution), encoding="utf-8")
        try:
            plan, start = read_solution_json(path, problem)
        except InputError as exc:
            raise from_input_error(exc, field) from None
    if len(plan) not in (1, n_periods):
        raise ApiError(
            422,
            "periods",
            f"{len(plan)} periods; expected 1 or {n_periods} as in the session's periods",
        )
    return plan, start


def assess_plan(problem: Any, plan: Any, periods: Any, weights: Any, start: Any) -> dict[str, Any]:
    """A plan's assessment as JSON-ready data (the library's ``Assessment.to_dict``)."""
    from gridtwin.controllers.reconfig import assess

    return assess(problem, plan, periods, weights=weights, start=start).to_dict()


def _nan_none(values: np.ndarray, digits: int = 9) -> list[float | None]:
    return [None if not math.isfinite(v) else round(float(v), digits) for v in values.tolist()]


def power_flow(entry: Any, open_lines: list[Any], periods_csv: Path | None) -> dict[str, Any]:
    """Per-period bus voltages, line and transformer loadings and losses of a configuration.

    On a radial-capable network ``open_lines`` is the whole configuration:
    the switchable lines it names are open (their line switches, or their
    ``in_service`` on all-lines-switchable networks), every other switchable
    line is closed. On other networks the named lines are taken out of
    service and everything else keeps the net's state.
    """
    from gridtwin.grid.state import GridState

    net = entry.net
    index = net.line.index.tolist()
    state = GridState.from_net(net)
    problem = entry.problem
    allowed = problem.line_index().tolist() if problem is not None else index
    where = {line: i for i, line in enumerate(allowed)}
    for k, line in enumerate(open_lines):
        if line not in where:
            what = "a switchable line" if problem is not None else "a line"
            raise ApiError(422, f"open_lines[{k}]", f"line {line!r} is not {what} of this network")
    if problem is not None:
        closed = np.ones(problem.m, dtype=bool)
        closed[[where[line] for line in open_lines]] = False
        if problem.all_lines_switchable:
            state.line_in_service = problem.line_in_service(closed)
        else:
            state.switch_closed = problem.switch_closed(closed)
    else:
        pos = {line: i for i, line in enumerate(index)}
        for line in open_lines:
            state.line_in_service[pos[line]] = False
    if periods_csv is not None:
        problem = entry.require_problem("periods")
        per = read_periods(problem, periods_csv)
    else:
        per = None
    n = per.n if per is not None else 1
    out_periods = []
    with entry.lock:
        engine = entry.power_flow_engine()
        for t in range(n):
            if per is not None:
                state.load_p_mw = per.load_p_mw[t].copy()
                state.load_q_mvar = per.load_q_mvar[t].copy()
                state.sgen_p_mw = per.sgen_p_mw[t].copy()
                state.sgen_q_mvar = per.sgen_q_mvar[t].copy()
            r = engine.solve(state)
            out_periods.append(
                {
                    "period": t,
                    "converged": bool(r.converged),
                    "losses_mw": None if not math.isfinite(r.losses_mw) else float(r.losses_mw),
                    "bus_vm_pu": _nan_none(r.bus_vm_pu),
                    "bus_va_degree": _nan_none(r.bus_va_degree),
                    "line_loading_percent": _nan_none(r.line_loading_percent, 6),
                    "trafo_loading_percent": _nan_none(r.trafo_loading_percent, 6),
                }
            )
    return {
        "engine": engine.name,
        "open_lines": open_lines,
        "bus_index": net.bus.index.tolist(),
        "line_index": index,
        "trafo_index": net.trafo.index.tolist(),
        "periods": out_periods,
    }
