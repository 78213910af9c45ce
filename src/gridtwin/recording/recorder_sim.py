"""mosaik simulator that records the grid and the events into the run store.

One entity ``Recorder`` with inputs ``result`` (a PowerFlowResult),
``load_demand_p_mw``, ``switch_closed``, ``line_in_service``,
``trafo_tap_pos`` from the grid and ``events`` from the event simulator;
with a reconfiguration controller also ``static_losses_mw`` and
``command_operations`` from the grid and ``plans`` from the controller (the
per-step ``reconfig`` table and the ``reconfig_plans`` rows); with a
forecaster ``forecast`` (the ``forecast`` table: each cadence's quantiles
for the step, seasonal naive and the actual, per target; and the forecast
KPIs).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import mosaik_api_v3
import numpy as np
from mosaik_api_v3.types import CreateResult, InputData, Meta

from gridtwin.grid.engine import PowerFlowResult
from gridtwin.recording.store import BOOL_OR_NULL, INT_OR_NULL, ParquetStore
from gridtwin.report.kpis import GridKpis

__all__ = ["RECONFIG_TABLE_FIELDS", "SE_TABLE_FIELDS", "TABLE_FIELDS", "RecorderSimulator"]

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Recorder": {
            "public": True,
            "params": [],
            "attrs": [
                "result",
                "load_demand_p_mw",
                "switch_closed",
                "line_in_service",
                "trafo_tap_pos",
                "events",
                "frame",
                "estimate",
                "forecast",
                "static_losses_mw",
                "command_operations",
                "plans",
                "sgen_available_p_mw",
                "setpoints",
                "command_records",
            ],
        }
    },
}

F8, B1, I8 = np.dtype("f8"), np.dtype("bool"), np.dtype("i8")
TABLE_FIELDS: dict[str, dict[str, np.dtype]] = {
    "grid": {
        "converged": B1,
        "losses_mw": F8,
        "load_p_mw": F8,
        "load_demand_p_mw": F8,
        "sgen_p_mw": F8,
        "ext_grid_p_mw": F8,
        "ext_grid_q_mvar": F8,
        "vm_min_pu": F8,
        "vm_max_pu": F8,
        "line_loading_max_percent": F8,
        "deenergized_buses": INT_OR_NULL,  # null: power flow not converged, unknown
    },
    "bus": {"vm_pu": F8, "va_degree": F8, "p_mw": F8, "q_mvar": F8, "energized": BOOL_OR_NULL},
    "line": {
        "p_from_mw": F8,
        "q_from_mvar": F8,
        "p_to_mw": F8,
        "q_to_mvar": F8,
        "i_from_ka": F8,
        "i_to_ka": F8,
        "loading_percent": F8,
        "in_service": B1,
    },
    "trafo": {
        "p_hv_mw": F8,
        "q_hv_mvar": F8,
        "p_lv_mw": F8,
        "q_lv_mvar": F8,
        "loading_percent": F8,
        "tap_pos": I8,
    },
    "load": {"p_mw": F8, "q_mvar": F8, "demand_p_mw": F8},
    "sgen": {"p_mw": F8, "q_mvar": F8, "available_p_mw": F8},
    "storage": {"p_mw": F8},
}
"""Fields of each per-step table, with units in their names."""

CONTROL_TABLE_FIELDS: dict[str, np.dtype] = {"q_set_mvar": F8, "p_limit_mw": F8}
"""Voltage controllers' set-points per sgen (NaN: the profile's Q; inf: no limit)."""

SE_TABLE_FIELDS: dict[str, dict[str, np.dtype]] = {
    "measurement": {"value": F8, "sigma": F8, "valid": B1, "corrupted": B1},
    "estimate_bus": {"vm_pu": F8, "va_degree": F8, "vm_error_pu": F8},
    "estimate_line": {"p_from_mw": F8, "q_from_mvar": F8, "loading_percent": F8},
    "estimation": {
        "estimated": B1,
        "objective": F8,
        "chi2_limit": F8,
        "chi2_ok": B1,
        "bad_data_detected": B1,
        "bad_data_not_identifiable": B1,
        "removed_count": I8,
        "compute_ms": F8,
    },
}
"""State-estimation tables: ``measurement`` (element = measurement name, the
value's unit is in the name), ``estimate_bus``, ``estimate_line`` and
``estimation`` (one row per step, element ``estimator``)."""


RECONFIG_TABLE_FIELDS: dict[str, np.dtype] = {
    "losses_mw": F8,
    "losses_static_mw": F8,
    "operations": I8,
}
"""The per-step ``reconfig`` table (element ``reconfig``): losses with the
controller and in the starting configuration, and the switch operations its
commands made this step. Plans go to the free-form ``reconfig_plans`` rows."""


def _nanmin(values: np.ndarray, mask: np.ndarray) -> float:
    return float(values[mask].min()) if mask.any() else float("nan")


def _nanmax(values: np.ndarray, mask: np.ndarray) -> float:
    return float(values[mask].max()) if mask.any() else float("nan")


class RecorderSimulator(mosaik_api_v3.Simulator):
    """Writes each step to a :class:`ParquetStore` and feeds the KPIs (in-process only).

    Simulator parameters: ``store``, ``kpis`` (:class:`GridKpis`), ``step_s``,
    ``tables`` (names to record), ``switch_names``, ``start_s`` (epoch of
    time.start), and optionally ``on_step(done_steps)``.
    """

    def __init__(self) -> None:
        super().__init__(META)
        self.store: ParquetStore | None = None
        self.kpis: GridKpis | None = None
        self.on_step: Callable[[int], None] | None = None
        self._last_switch: np.ndarray | None = None

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.store = sim_params["store"]
        self.kpis = sim_params["kpis"]
        self.step_s = int(sim_params["step_s"])
        self.tables = set(sim_params["tables"])
        self.switch_names: list[str] = sim_params["switch_names"]
        self.start_s = int(sim_params["start_s"])
        self.on_step = sim_params.get("on_step")
        self.se_kpis = sim_params.get("se_kpis")
        self.voltage_kpis = sim_params.get("voltage_kpis")
        self.reconfig_kpis = sim_params.get("reconfig_kpis")
        self.forecast_kpis = sim_params.get("forecast_kpis")
        announced = ["events", *(["switch"] if "switch" in self.tables else [])]
        announced += ["bad_data_removed"] if "estimation" in self.tables else []
        for table in announced:  # present in the run directory even if nothing happens
            sim_params["store"].append_rows(table, [])
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "recorder", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        attrs = inputs.get("recorder", {})

        def one(name: str) -> Any:
            return next(iter(attrs[name].values())) if name in attrs else None

        for at_s, events in attrs.get("events", {}).values():
            if at_s == time:
                self._record_events(time, events)
        result: PowerFlowResult | None = one("result")
        if result is not None:
            demand = one("load_demand_p_mw")
            self._record_step(time, result, demand, one)
            assert self.kpis is not None
            self.kpis.add(result, demand)
        if self.reconfig_kpis is not None:
            self._record_reconfig(time, result, one)
        frame, estimate = one("frame"), one("estimate")
        if frame is not None:
            self._record_se(time, result, frame, estimate)
        if self.voltage_kpis is not None and result is not None:
            self._record_voltage(time, result, one)
        self._record_commands(attrs.get("command_records", {}))
        forecast = one("forecast")
        if forecast is not None and self.forecast_kpis is not None:
            self._record_forecast(time, forecast, result)
        if self.on_step is not None:
            self.on_step(time // self.step_s + 1)
        return time + self.step_s

    def _record_step(self, time: int, r: PowerFlowResult, demand: np.ndarray, one: Any) -> None:
        store = self.store
        assert store is not None
        live = r.bus_energized
        energized = live if r.converged else np.full(live.size, np.nan)  # unknown, not dead
        want = self.tables
        if "grid" in want:
            store.append(
                "grid",
                time,
                {
                    "converged": r.converged,
                    "losses_mw": r.losses_mw,
                    "load_p_mw": r.load_p_mw.sum(),
                    "load_demand_p_mw": demand.sum(),
                    "sgen_p_mw": r.sgen_p_mw.sum(),
                    "ext_grid_p_mw": r.ext_grid_p_mw.sum(),
                    "ext_grid_q_mvar": r.ext_grid_q_mvar.sum(),
                    "vm_min_pu": _nanmin(r.bus_vm_pu, live),
                    "vm_max_pu": _nanmax(r.bus_vm_pu, live),
                    "line_loading_max_percent": (
                        float(np.nanmax(r.line_loading_percent))
                        if np.isfinite(r.line_loading_percent).any()
                        else np.nan
                    ),
                    "deenergized_buses": int(live.size - live.sum()) if r.converged else np.nan,
                },
            )
        if "bus" in want:
            store.append(
                "bus",
                time,
                {
                    "vm_pu": r.bus_vm_pu,
                    "va_degree": r.bus_va_degree,
                    "p_mw": r.bus_p_mw,
                    "q_mvar": r.bus_q_mvar,
                    "energized": energized,
                },
            )
        if "line" in want:
            store.append(
                "line",
                time,
                {
                    "p_from_mw": r.line_p_from_mw,
                    "q_from_mvar": r.line_q_from_mvar,
                    "p_to_mw": r.line_p_to_mw,
                    "q_to_mvar": r.line_q_to_mvar,
                    "i_from_ka": r.line_i_from_ka,
                    "i_to_ka": r.line_i_to_ka,
                    "loading_percent": r.line_loading_percent,
                    "in_service": one("line_in_service"),
                },
            )
        if "trafo" in want and r.trafo_loading_percent.size:
            store.append(
                "trafo",
                time,
                {
                    "p_hv_mw": r.trafo_p_hv_mw,
                    "q_hv_mvar": r.trafo_q_hv_mvar,
                    "p_lv_mw": r.trafo_p_lv_mw,
                    "q_lv_mvar": r.trafo_q_lv_mvar,
                    "loading_percent": r.trafo_loading_percent,
                    "tap_pos": one("trafo_tap_pos"),
                },
            )
        if "load" in want and r.load_p_mw.size:
            store.append(
                "load",
                time,
                {
                    "p_mw": r.load_p_mw,
                    "q_mvar": r.load_q_mvar,
                    "demand_p_mw": demand,
                },
            )
        if "sgen" in want and r.sgen_p_mw.size:
            available = one("sgen_available_p_mw")
            store.append(
                "sgen",
                time,
                {
                    "p_mw": r.sgen_p_mw,
                    "q_mvar": r.sgen_q_mvar,
                    "available_p_mw": np.nan if available is None else available,
                },
            )
        if "storage" in want and r.storage_p_mw.size:
            store.append("storage", time, {"p_mw": r.storage_p_mw})
        if "switch" in want:
            self._record_switches(time, one("switch_closed"))

    def _record_reconfig(self, time: int, result: PowerFlowResult | None, one: Any) -> None:
        store, kpis = self.store, self.reconfig_kpis
        assert store is not None and kpis is not None
        plans = [r for r in one("plans") or [] if r.time_s == time]
        kpis.add_plans(plans)
        if plans:
            store.append_rows(
                "reconfig_plans",
                [
                    {"time": self._stamp(time), "sim_time_s": time}
                    | {k: v for k, v in asdict(r).items() if k != "time_s"}
                    for r in plans
                ],
            )
        if result is None:
            return
        static = one("static_losses_mw")
        ops = one("command_operations") or 0
        store.append(
            "reconfig",
            time,
            {
                "losses_mw": result.losses_mw,
                "losses_static_mw": np.nan if static is None else static,
                "operations": ops,
            },
        )
        kpis.add(
            converged=result.converged,
            losses_mw=result.losses_mw,
            static_losses_mw=np.nan if static is None else static,
            load_demand_p_mw=one("load_demand_p_mw"),
            switch_closed=one("switch_closed"),
            line_in_service=one("line_in_service"),
            command_operations=ops,
        )

    def _record_se(self, time: int, truth: Any, frame: Any, est: Any) -> None:
        store = self.store
        assert store is not None
        store.append(
            "measurement",
            time,
            {
                "value": frame.value,
                "sigma": frame.sigma,
                "valid": frame.valid,
                "corrupted": frame.corrupted,
            },
        )
        if est is None:
            return
        store.append(
            "estimate_bus",
            time,
            {
                "vm_pu": est.bus_vm_pu,
                "va_degree": est.bus_va_degree,
                # no error figure for a step that was not estimated (held or flat values)
                "vm_error_pu": est.bus_vm_pu - truth.bus_vm_pu
                if est.status == 0
                else np.full(est.bus_vm_pu.size, np.nan),
            },
        )
        store.append(
            "estimate_line",
            time,
            {
                "p_from_mw": est.line_p_from_mw,
                "q_from_mvar": est.line_q_from_mvar,
                "loading_percent": est.line_loading_percent,
            },
        )
        store.append(
            "estimation",
            time,
            {
                "estimated": est.status == 0,
                "objective": est.objective,
                "chi2_limit": est.chi2_limit,
                "chi2_ok": est.chi2_ok,
                "bad_data_detected": est.bad_data_detected,
                "bad_data_not_identifiable": est.bad_data_not_identifiable,
                "removed_count": len(est.removed),
                "compute_ms": est.compute_ms,
            },
        )
        if est.removed:
            store.append_rows(
                "bad_data_removed",
                [
                    {"time": self._stamp(time), "sim_time_s": time, "element": name}
                    for name in est.removed
                ],
            )
        if self.se_kpis is not None:
            self.se_kpis.add(truth, frame, est)

    def _record_voltage(self, time: int, result: PowerFlowResult, one: Any) -> None:
        """Voltage KPIs from the truth; the controllers' set-points into ``control``."""
        assert self.voltage_kpis is not None and self.store is not None
        available = one("sgen_available_p_mw")
        tap = one("trafo_tap_pos")
        self.voltage_kpis.add(result, available, tap if tap is not None else np.zeros(0))
        commands = one("setpoints")
        if commands is not None and "control" in self.tables:
            self.store.append(
                "control",
                time,
                {"q_set_mvar": commands.q_set_mvar, "p_limit_mw": commands.p_limit_mw},
            )
        if commands is not None and commands.central_ms is not None:
            self.voltage_kpis.decision_ms.append(commands.central_ms)

    def _record_forecast(self, time: int, fc: Any, result: PowerFlowResult | None) -> None:
        """The forecasts in effect for this step, the true and the metered actual; scores."""
        kpis = self.forecast_kpis
        assert self.store is not None and kpis is not None
        if result is not None:
            kpis.add_truth(time // self.step_s, result.load_p_mw, result.sgen_p_mw)
        truth = kpis.truth.get(time // self.step_s)
        names = [f"p{round(100 * q):02d}" for q in kpis.quantiles]
        values = {
            "seasonal_naive_mw": fc.seasonal_naive_mw,
            "actual_mw": fc.actual_mw if truth is None else truth,
            "metered_mw": fc.actual_mw,
        }
        for cadence, q in fc.current.items():
            for i, name in enumerate(names):
                values[f"{cadence}_{name}_mw"] = q[i]
        self.store.append("forecast", time, values)
        kpis.add(fc.completed)

    def _record_commands(self, sources: dict[str, Any]) -> None:
        """One ``command`` row per command that arrived or will never arrive (issue time)."""
        rows = [
            {"time": self._stamp(r.issued_s), "sim_time_s": r.issued_s} | asdict(r)
            for src in sorted(sources)
            for r in sources[src] or []
        ]
        if rows:
            assert self.store is not None
            self.store.append_rows("command", rows)

    def _record_switches(self, time: int, closed: np.ndarray | None) -> None:
        if closed is None or len(closed) == 0:
            return
        if self._last_switch is None:
            changed = np.arange(len(closed))
        else:
            changed = np.flatnonzero(closed != self._last_switch)
        self._last_switch = closed.copy()
        if len(changed):
            assert self.store is not None
            self.store.append_rows(
                "switch",
                [
                    {
                        "time": self._stamp(time),
                        "sim_time_s": time,
                        "element": self.switch_names[i],
                        "closed": bool(closed[i]),
                    }
                    for i in changed
                ],
            )

    def _record_events(self, time: int, events: list) -> None:
        assert self.store is not None
        self.store.append_rows(
            "events",
            [
                {
                    "time": self._stamp(time),
                    "sim_time_s": time,
                    "type": e.type,
                    "target": e.target,
                    "params": json.dumps(dict(e.params), sort_keys=True),
                }
                for e in events
            ],
        )

    def _stamp(self, time: int) -> Any:
        return datetime.fromtimestamp(self.start_s + time, tz=UTC)
