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

The recorder is generic: it appends every
:class:`~gridtwin.recording.tables.StepTable` the components declared
(simulator parameter ``declared``) from the step's inputs, and calls every
``feed`` the components registered (:meth:`gridtwin.components.Wiring.feed`:
their KPI accumulators and free-form rows such as ``bad_data_removed`` and
``reconfig_plans``). Only the testbed's own rows (events, switch, command)
and the grid KPIs have code here.
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

from gridtwin.components import Feed
from gridtwin.grid.engine import PowerFlowResult
from gridtwin.recording.store import ParquetStore
from gridtwin.recording.tables import StepTable
from gridtwin.report.kpis import GridKpis

__all__ = ["RecorderSimulator"]

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


class _Inputs(dict[str, Any]):
    """One step's inputs, attribute -> value; an attribute without input is None."""

    def __missing__(self, key: str) -> None:
        return None


class RecorderSimulator(mosaik_api_v3.Simulator):
    """Writes each step to a :class:`ParquetStore` and feeds the KPIs (in-process only).

    Simulator parameters: ``store``, ``kpis`` (:class:`GridKpis`), ``step_s``,
    ``tables`` (names to record), ``switch_names``, ``start_s`` (epoch of
    time.start), ``declared`` (the :class:`StepTable` declarations to append
    each step) and optionally ``on_step(done_steps)``.
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
        self.declared: list[StepTable] = list(sim_params.get("declared", []))
        self.switch_names: list[str] = sim_params["switch_names"]
        self.start_s = int(sim_params["start_s"])
        self.on_step = sim_params.get("on_step")
        self.feeds: list[Feed] = list(sim_params.get("feeds", []))
        announced = ["events", "command", *(["switch"] if "switch" in self.tables else [])]
        announced += sim_params.get("announced", [])
        for table in announced:  # present in the run directory even if nothing happens
            sim_params["store"].append_rows(table, [])
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "recorder", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        attrs = inputs.get("recorder", {})
        one = _Inputs({name: next(iter(v.values())) for name, v in attrs.items() if v})
        for at_s, events in attrs.get("events", {}).values():
            if at_s == time:
                self._record_events(time, events)
        assert self.store is not None
        for table in self.declared:  # every declared per-step table, generically
            values = table.values(one)
            if values is not None:
                self.store.append(table.name, time, values)
        result: PowerFlowResult | None = one["result"]
        if result is not None:
            assert self.kpis is not None
            self.kpis.add(result, one["load_demand_p_mw"])
            if "switch" in self.tables:
                self._record_switches(time, one["switch_closed"])
        for feed in self.feeds:
            feed(time, one, self._write_rows)
        self._record_commands(attrs.get("command_records", {}))
        if self.on_step is not None:
            self.on_step(time // self.step_s + 1)
        return time + self.step_s

    def _write_rows(self, table: str, time: int, rows: list[dict[str, Any]]) -> None:
        """A feed's free-form rows, stamped with the step."""
        if rows:
            assert self.store is not None
            stamp = {"time": self._stamp(time), "sim_time_s": time}
            self.store.append_rows(table, [stamp | row for row in rows])

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


if __name__ == "__main__":  # in-process only: says so instead of waiting for mosaik
    from gridtwin.simulators.remote import refuse

    raise SystemExit(
        refuse(
            "gridtwin.recording.recorder_sim",
            "it writes the run store and feeds the KPI accumulators that gridtwin "
            "reads when the run ends; it runs inside gridtwin's own world",
        )
    )
