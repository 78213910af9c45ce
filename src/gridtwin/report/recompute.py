"""Recompute a run's KPIs from its run directory alone.

The testbed's KPIs compare the truth with what the functions believed and
did. They are accumulated while the run goes (:mod:`gridtwin.report.kpis` and
its siblings); here the recorded tables are replayed, step by step, through
the same accumulators, so ``gridtwin kpis RUN_DIR`` gives the figures of the
run's ``kpis.json`` from the Parquet tables: sections ``grid``, ``voltage``,
``reliability``, ``se``, ``reconfig`` (from ``reconfig``, ``reconfig_plans``,
``switch`` and ``line``), ``flisr`` (from ``flisr_incidents``) and
``forecast`` (from ``forecast`` and ``forecast_issues``). Figures that are
wall-clock timings of the run (``run.wall_s``, the centralized controller's
``central_ms_*``, the forecaster's ``train_s``) are not in the tables; they
are taken from ``kpis.json`` and named as such (:data:`NOT_RECOMPUTED`). A
run directory written before a table was recorded (no ``flisr_incidents``,
no ``forecast_issues``) keeps that section from ``kpis.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from gridtwin.report.rundir import RunDir, open_run_dir

__all__ = ["NOT_RECOMPUTED", "recompute_kpis"]

NOT_RECOMPUTED = {
    "run": ("wall_s",),
    "voltage": ("central_ms_p50", "central_ms_p95"),
    "forecast": ("train_s",),
}
"""Wall-clock figures, copied from ``kpis.json`` (no table holds them)."""


class _Tables:
    """The run's per-step tables as (steps, elements) arrays."""

    def __init__(self, run: RunDir) -> None:
        self.run = run
        self.times = self.frame("grid")["sim_time_s"].to_numpy(np.int64)

    def has(self, name: str) -> bool:
        return name in self.run.tables

    def frame(self, name: str) -> Any:
        return self.run.read(name)

    def matrix(self, name: str, column: str) -> np.ndarray:
        """Values of ``column`` as (steps, elements), elements in the network's order."""
        df = self.frame(name)
        codes = df["element"].cat.codes.to_numpy() if hasattr(df["element"], "cat") else None
        n_el = len(df["element"].cat.categories) if codes is not None else df["element"].nunique()
        values = df[column].to_numpy()
        step = np.searchsorted(self.times, df["sim_time_s"].to_numpy(np.int64))
        if codes is None:
            codes = df.groupby("sim_time_s").cumcount().to_numpy()
        out = np.zeros((len(self.times), n_el), dtype=values.dtype)
        out[step, codes] = values
        return out


def _results(t: _Tables) -> list[SimpleNamespace]:
    """The recorded truth per step, with the fields the accumulators read."""
    grid = t.frame("grid")
    converged = grid["converged"].to_numpy(bool)
    losses = grid["losses_mw"].to_numpy(float)
    ext = grid["ext_grid_p_mw"].to_numpy(float)
    n = len(t.times)
    empty = np.zeros((n, 0))
    vm = t.matrix("bus", "vm_pu") if t.has("bus") else empty
    va = t.matrix("bus", "va_degree") if t.has("bus") else empty
    live = t.matrix("bus", "energized") if t.has("bus") else empty.astype(bool)
    line = t.matrix("line", "loading_percent") if t.has("line") else empty
    trafo = t.matrix("trafo", "loading_percent") if t.has("trafo") else empty
    load_p = t.matrix("load", "p_mw") if t.has("load") else empty
    sgen_p = t.matrix("sgen", "p_mw") if t.has("sgen") else empty
    sgen_q = t.matrix("sgen", "q_mvar") if t.has("sgen") else empty
    return [
        SimpleNamespace(
            converged=bool(converged[i]),
            losses_mw=float(losses[i]),
            ext_grid_p_mw=np.array([ext[i]]),
            bus_vm_pu=vm[i],
            bus_va_degree=va[i],
            bus_energized=live[i].astype(bool),
            line_loading_percent=line[i],
            trafo_loading_percent=trafo[i],
            load_p_mw=load_p[i],
            sgen_p_mw=sgen_p[i],
            sgen_q_mvar=sgen_q[i],
        )
        for i in range(n)
    ]


def _grid(t: _Tables, results: list[Any], step_s: int) -> dict[str, Any]:
    from gridtwin.report.kpis import GridKpis

    kpis = GridKpis(step_s=step_s)
    demand = t.matrix("load", "demand_p_mw") if t.has("load") else np.zeros((len(results), 0))
    for i, r in enumerate(results):
        kpis.add(r, demand[i])
    return kpis.sections(wall_s=0.0, sim_seconds=kpis.steps * step_s)


def _voltage(t: _Tables, results: list[Any], scenario: Any, net: Any) -> dict[str, Any]:
    from gridtwin.report.voltage_kpis import VoltageKpis, band_per_bus

    vc = scenario.voltage_control
    low, high = band_per_bus(net.bus["vn_kv"].to_numpy(float), vc.band_mv_pu, vc.band_lv_pu)
    kpis = VoltageKpis(scenario.time.step, low, high)
    n = len(results)
    available = t.matrix("sgen", "available_p_mw") if t.has("sgen") else np.zeros((n, 0))
    tap = t.matrix("trafo", "tap_pos") if t.has("trafo") else np.zeros((n, 0), np.int64)
    for i, r in enumerate(results):
        kpis.add(r, available[i], tap[i])
    return kpis.section()


def _reliability(t: _Tables, results: list[Any], net: Any, step_s: int) -> Any:
    """The reliability accumulator fed the recorded truth (``section()``: ``reliability``)."""
    from gridtwin.report.reliability_kpis import ReliabilityKpis

    kpis = ReliabilityKpis.from_net(net, step_s)
    demand = t.matrix("load", "demand_p_mw")
    for i, r in enumerate(results):
        kpis.add(int(t.times[i]), r, demand[i])
    return kpis


def _flisr(t: _Tables, reliability: Any, scenario: Any, net: Any, plan: Any) -> dict[str, Any]:
    """The ``flisr`` section from the ``flisr_incidents`` rows and the true faults."""
    from gridtwin.controllers.flisr.component import fault_truth
    from gridtwin.controllers.flisr.tables import TABLE, lines_of
    from gridtwin.events import build_schedule
    from gridtwin.grid.topology import element_names

    faults, repairs = fault_truth(build_schedule(scenario, net, plan))
    rows = t.frame(TABLE)
    names = element_names(net, "line")
    incidents = [
        SimpleNamespace(detected_s=int(r.sim_time_s), lines=lines_of(r.lines, names))
        for r in rows.itertuples(index=False)
    ]
    ops = int((rows["isolation"] + rows["reclosed"] + rows["ties"]).sum())
    return dict(reliability.flisr_section(incidents, faults, repairs, ops))


def _se(t: _Tables, results: list[Any], plan: Any, scenario: Any) -> dict[str, Any]:
    from gridtwin.report.se_kpis import SeKpis

    bounds = np.concatenate([plan.ch_active_from_s, plan.ch_active_until_s])
    starts = np.unique(bounds[(bounds > 0) & (bounds < scenario.time.duration)])
    kpis = SeKpis(plan.sc_name, [0, *starts.tolist()])
    m = {c: t.matrix("measurement", c) for c in ("valid", "corrupted")}
    est = t.frame("estimation")
    est_times = est["sim_time_s"].to_numpy(np.int64)
    vm, va = t.matrix("estimate_bus", "vm_pu"), t.matrix("estimate_bus", "va_degree")
    loading = t.matrix("estimate_line", "loading_percent")
    removed: dict[int, list[str]] = {}
    if t.has("bad_data_removed"):
        for time_s, name in t.frame("bad_data_removed")[["sim_time_s", "element"]].itertuples(
            index=False
        ):
            removed.setdefault(int(time_s), []).append(str(name))
    rows = est.itertuples(index=False)
    for k, row in enumerate(rows):
        i = int(np.searchsorted(t.times, est_times[k]))
        frame = SimpleNamespace(
            time_s=int(est_times[k]), valid=m["valid"][i].astype(bool), corrupted=m["corrupted"][i]
        )
        estimate = SimpleNamespace(
            status=0 if row.estimated else 1,
            compute_ms=float(row.compute_ms),
            bad_data_detected=bool(row.bad_data_detected),
            bad_data_not_identifiable=bool(getattr(row, "bad_data_not_identifiable", False)),
            removed=removed.get(int(est_times[k]), []),
            bus_vm_pu=vm[i],
            bus_va_degree=va[i],
            line_loading_percent=loading[i],
        )
        # the estimate rebuilt from the table: a stand-in with the fields add() reads
        kpis.add(results[i], frame, estimate)  # type: ignore[arg-type]
    return kpis.section()


def _positions(t: _Tables, names: list[str]) -> np.ndarray:
    """Switch positions per step (steps, switches) from the ``switch`` change rows."""
    closed = np.zeros((len(t.times), len(names)), dtype=bool)
    changes = t.frame("switch")
    index = {name: k for k, name in enumerate(names)}
    step = np.searchsorted(t.times, changes["sim_time_s"].to_numpy(np.int64))
    cols = np.array([index[str(e)] for e in changes["element"]], dtype=np.int64)
    values = changes["closed"].to_numpy(bool)
    for i in range(len(t.times)):  # a change holds until the next one
        if i:
            closed[i] = closed[i - 1]
        at = step == i
        closed[i, cols[at]] = values[at]
    return closed


def _reconfig(t: _Tables, results: list[Any], scenario: Any, net: Any) -> dict[str, Any]:
    """The ``reconfig`` section from the ``reconfig``, ``reconfig_plans``, ``switch`` and
    ``line`` tables, through :class:`~gridtwin.report.reconfig_kpis.ReconfigKpis`."""
    from gridtwin.controllers.reconfig.component import build_problem
    from gridtwin.grid.topology import element_names
    from gridtwin.report.reconfig_kpis import ReconfigKpis

    kpis = ReconfigKpis(build_problem(scenario, net), step_s=scenario.time.step)
    if t.has("reconfig_plans"):
        plans = t.frame("reconfig_plans")
        records = zip(plans["status"], plans["reason"], strict=True)
        # the plan records rebuilt from the rows: stand-ins with the fields add_plans() reads
        kpis.add_plans([SimpleNamespace(status=s, reason=r) for s, r in records])  # type: ignore[misc]
    rc = t.frame("reconfig")
    rc_step = np.searchsorted(t.times, rc["sim_time_s"].to_numpy(np.int64))
    closed = _positions(t, element_names(net, "switch"))
    in_service = t.matrix("line", "in_service").astype(bool)
    demand = t.matrix("load", "demand_p_mw")
    for row, i in zip(rc.itertuples(index=False), rc_step, strict=True):
        kpis.add(
            converged=results[i].converged,
            losses_mw=float(row.losses_mw),
            static_losses_mw=float(row.losses_static_mw),
            load_demand_p_mw=demand[i],
            switch_closed=closed[i],
            line_in_service=in_service[i],
            command_operations=int(row.operations),
        )
    return kpis.section()


def _completed(rows: Any, stems: list[str], n_targets: int) -> SimpleNamespace:
    """A completed issue rebuilt from its ``forecast_issues`` rows (lead-major order)."""
    shape = (len(rows) // n_targets, n_targets)

    def column(name: str) -> np.ndarray:
        return rows[name].to_numpy(float).reshape(shape)

    steps = rows["step"].to_numpy(np.int64).reshape(shape)[:, 0]
    issue = SimpleNamespace(
        cadence=str(rows["cadence"].iloc[0]),
        positions=steps,
        q=np.stack([column(f"{stem}_mw") for stem in stems]),
        seasonal_naive=column("seasonal_naive_mw"),
        persistence=column("persistence_mw"),
    )
    daylight = rows["daylight"].to_numpy(bool).reshape(shape)[:, 0]
    return SimpleNamespace(issue=issue, actual=column("actual_mw"), daylight=daylight)


def _forecast(t: _Tables, scenario: Any) -> dict[str, Any]:
    """The ``forecast`` section from the ``forecast`` table (the truth per target) and the
    ``forecast_issues`` rows, through :class:`~gridtwin.report.forecast_kpis.ForecastKpis`."""
    from gridtwin.controllers.forecasting.features import GROUPS
    from gridtwin.controllers.forecasting.models import ModelKind
    from gridtwin.controllers.forecasting.tables import ISSUES, quantile_names
    from gridtwin.report.forecast_kpis import ForecastKpis

    spec = scenario.forecasting
    quantiles = tuple(float(q) for q in spec.quantiles)
    table = t.frame("forecast")
    columns = [str(n) for n in table["element"].cat.categories]  # the truth matrix's order
    issues = t.frame(ISSUES)
    first = issues[issues["issue"] == 0] if len(issues) else issues
    group_of = dict(zip(first["element"].astype(str), first["group"], strict=True))
    names = list(group_of) or columns  # the forecaster's target order (rows: lead-major)
    group = np.array([GROUPS.index(group_of.get(n, "other")) for n in names])
    info = {"model": str(ModelKind(spec.model)), "level": spec.level, "targets": len(columns)}
    kpis = ForecastKpis(group, quantiles, info=info)
    # the truth per target, as add_truth had it, in the forecaster's target order
    actual = t.matrix("forecast", "actual_mw")[:, [columns.index(n) for n in names]]
    times = np.unique(table["sim_time_s"].to_numpy(np.int64))
    index = np.searchsorted(t.times, times)
    stems, known = quantile_names(quantiles), 0
    for (_, known_s), rows in issues.groupby(["issue", "scored_s"], sort=True):
        while known < len(times) and times[known] <= known_s:  # the truth known by then
            kpis.truth[int(times[known]) // scenario.time.step] = actual[index[known]]
            known += 1
        kpis.add([_completed(rows, stems, len(names))])
    return kpis.section()


def recompute_kpis(run_dir: str | Path) -> dict[str, dict[str, Any]]:
    """The KPIs of a run directory, recomputed from its tables.

    Sections ``run`` and ``grid`` always; ``voltage``, ``reliability``,
    ``se``, ``forecast``, ``reconfig`` and ``flisr`` where the run has them
    and their tables. Every other section of ``kpis.json`` (a user
    function's, the real-time pacer's) is copied as it is, and so are the
    figures in :data:`NOT_RECOMPUTED`.
    """
    from gridtwin.grid.sources import load_net
    from gridtwin.scenario import check_against_net, load_scenario

    path = Path(run_dir)
    run = open_run_dir(path)
    recorded = run.kpis
    scenario = load_scenario(path / "scenario.yaml")
    net = load_net(scenario.grid, scenario.source_file)
    plan = check_against_net(scenario, net)
    t = _Tables(run)
    results = _results(t)
    out = dict(recorded)
    out.update(_grid(t, results, scenario.time.step))
    for key in ("run_id", "completed", *NOT_RECOMPUTED["run"]):
        if key in recorded.get("run", {}):
            out["run"][key] = recorded["run"][key]
    if "voltage" in recorded:
        out["voltage"] = _voltage(t, results, scenario, net)
        for key in NOT_RECOMPUTED["voltage"]:
            if key in recorded["voltage"]:
                out["voltage"][key] = recorded["voltage"][key]
    if "reliability" in recorded:
        reliability = _reliability(t, results, net, scenario.time.step)
        out["reliability"] = reliability.section()
        if "flisr" in recorded and t.has("flisr_incidents"):
            out["flisr"] = _flisr(t, reliability, scenario, net, plan)
    if "se" in recorded and t.has("estimation"):
        out["se"] = _se(t, results, plan, scenario)
    if "forecast" in recorded and t.has("forecast_issues"):
        out["forecast"] = _forecast(t, scenario)
        out["forecast"]["train_s"] = recorded["forecast"].get("train_s")
    if "reconfig" in recorded and all(t.has(n) for n in ("reconfig", "switch", "line", "load")):
        out["reconfig"] = _reconfig(t, results, scenario, net)
    return json.loads(json.dumps(out))
