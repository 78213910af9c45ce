"""mosaik simulator of the grid: state in, one power flow per step, results out.

Entities
--------
``Grid`` (one): whole vectors for gridtwin's own components.
    inputs: ``load_p_mw``, ``load_q_mvar``, ``sgen_p_mw``, ``sgen_q_mvar``,
    ``storage_p_mw`` (profiles); ``events``; control inputs
    ``switch_closed``, ``line_in_service``, ``trafo_tap_pos``,
    ``sgen_p_limit_mw``, ``sgen_q_set_mvar``, ``storage_p_set_mw``;
    ``switch_command`` (a :class:`~gridtwin.grid.state.SwitchCommand` or None,
    from the reconfiguration controller; applied only at its ``at_s``).
    outputs: every :class:`~gridtwin.grid.engine.PowerFlowResult` field
    (``bus_vm_pu``, ``line_loading_percent``, ``losses_mw``, ``converged``, ...),
    the applied ``load_demand_p_mw``, ``sgen_available_p_mw`` (before curtailment) and the
    state's ``switch_closed``,
    ``line_in_service``, ``trafo_tap_pos``; ``result``, the whole
    :class:`~gridtwin.grid.engine.PowerFlowResult` (for the recorder);
    ``command_operations``, the switches and lines a ``switch_command`` changed
    this step; ``static_losses_mw``, the losses of the same step in the starting
    switch configuration (NaN unless the simulator has a ``static_engine``).
Per element, children of ``Grid``, with mosaik-pandapower-2 style attributes so
that mosaik ecosystem components (mosaik-csv, mosaik-pv, householdsim) connect:
    ``Bus``: in ``P_gen[MW]``, ``Q_gen[MVar]``, ``P_load[MW]``, ``Q_load[MVar]``
    (summed over sources, reset every step); out ``P[MW]``, ``Q[MVar]``,
    ``Vm[pu]``, ``Va[deg]``, ``energized``.
    ``Line``: in ``in_service``; out ``P_from[MW]``, ``Q_from[MVar]``, ``P_to[MW]``,
    ``Q_to[MVar]``, ``I_from[kA]``, ``I_to[kA]``, ``I[kA]``, ``loading[%]``, ``in_service``.
    ``Trafo``: in ``tap_pos``; out ``P_hv[MW]``, ``Q_hv[MVar]``, ``P_lv[MW]``,
    ``Q_lv[MVar]``, ``loading[%]``, ``tap_pos``.
    ``Load``: in ``P[MW]``, ``Q[MVar]`` (replace the profile this step); out ``P[MW]``, ``Q[MVar]``.
    ``Sgen``: in ``P[MW]`` (available power, replaces the profile), ``P_max[MW]``,
    ``Q_set[MVar]``; out ``P[MW]``, ``Q[MVar]``.
    ``Storage``: in ``P[MW]`` (charging positive); out ``P[MW]``.
    ``Switch``: in ``closed``; out ``closed``.

Inputs of a step apply in this order: profiles, per-element powers, switch
commands, events, control inputs; then the power flow runs. Switch commands go
before events: a command was issued a step earlier, and a physical event in the
same step (a trip, an outage) has the last word, as it would in the field.
A failed power flow yields NaN outputs and ``converged`` False; the next step
goes on.

Protection (:mod:`gridtwin.grid.protection`): a ``line_fault`` event trips the
nearest upstream breaker; a permanent fault takes the line out of service
until ``repair`` (which also recloses the breaker it tripped), a temporary one
recloses the breaker at the first step at least ``dead_time_s`` later. A
switch command that feeds an unrepaired fault again trips again. Output
``fault_passed``: per switch, whether fault current of an active fault passed
it (what a fault passage indicator there shows). ``comms_loss`` ... ``comms_restore``
events: switch commands are dropped meanwhile. The static twin sees no
protection.

The *static* twin (with a ``static_engine``): a second state that shares every
input except switch commands, so it stays in the starting configuration apart
from events and other actors' switchings; one more power flow per step gives
``static_losses_mw``, the reference a reconfiguration controller is judged
against. It is testbed-side truth; no controller sees it.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import mosaik_api_v3
import numpy as np
import pandapower as pp

from gridtwin.grid.commands import apply_commands
from gridtwin.grid.engine import PowerFlowEngine, PowerFlowResult
from gridtwin.grid.protection import DeviceGraph, FaultTrip, trip_for_fault
from gridtwin.grid.state import GridState, SwitchCommand
from gridtwin.grid.topology import element_names
from gridtwin.simulators.channel import arrival_records

__all__ = ["GridSimulator"]

_RESULT_FIELDS = [f.name for f in fields(PowerFlowResult)]
_PROFILE_INPUTS = {
    "load_p_mw": "load_p_mw",
    "load_q_mvar": "load_q_mvar",
    "sgen_p_mw": "sgen_p_mw",
    "sgen_q_mvar": "sgen_q_mvar",
    "storage_p_mw": "storage_p_mw",
}
_CONTROL_INPUTS = {
    "switch_closed": "switch_closed",
    "line_in_service": "line_in_service",
    "trafo_tap_pos": "trafo_tap_pos",
    "sgen_p_limit_mw": "sgen_p_limit_mw",
    "sgen_q_set_mvar": "sgen_q_set_mvar",
    "storage_p_set_mw": "storage_p_mw",
}
_STATE_OUTPUTS = ["switch_closed", "line_in_service", "trafo_tap_pos", "load_demand_p_mw"]
_STATIC_TOPOLOGY = ("switch_closed", "line_in_service")

# per-element entity: (model, pandapower table, {output attr: (result field or state field, sign)})
_ELEMENT_OUTPUTS: dict[str, dict[str, str]] = {
    "Bus": {
        "P[MW]": "bus_p_mw",
        "Q[MVar]": "bus_q_mvar",
        "Vm[pu]": "bus_vm_pu",
        "Va[deg]": "bus_va_degree",
        "energized": "bus_energized",
    },
    "Line": {
        "P_from[MW]": "line_p_from_mw",
        "Q_from[MVar]": "line_q_from_mvar",
        "P_to[MW]": "line_p_to_mw",
        "Q_to[MVar]": "line_q_to_mvar",
        "I_from[kA]": "line_i_from_ka",
        "I_to[kA]": "line_i_to_ka",
        "loading[%]": "line_loading_percent",
        "in_service": "state:line_in_service",
    },
    "Trafo": {
        "P_hv[MW]": "trafo_p_hv_mw",
        "Q_hv[MVar]": "trafo_q_hv_mvar",
        "P_lv[MW]": "trafo_p_lv_mw",
        "Q_lv[MVar]": "trafo_q_lv_mvar",
        "loading[%]": "trafo_loading_percent",
        "tap_pos": "state:trafo_tap_pos",
    },
    "Load": {"P[MW]": "load_p_mw", "Q[MVar]": "load_q_mvar"},
    "Sgen": {"P[MW]": "sgen_p_mw", "Q[MVar]": "sgen_q_mvar"},
    "Storage": {"P[MW]": "storage_p_mw"},
    "Switch": {"closed": "state:switch_closed"},
}
_ELEMENT_INPUTS = {
    "Bus": ["P_gen[MW]", "Q_gen[MVar]", "P_load[MW]", "Q_load[MVar]"],
    "Line": ["in_service"],
    "Trafo": ["tap_pos"],
    "Load": ["P[MW]", "Q[MVar]"],
    "Sgen": ["P[MW]", "P_max[MW]", "Q_set[MVar]"],
    "Storage": ["P[MW]"],
    "Switch": ["closed"],
}
_TABLE = {
    "Bus": "bus",
    "Line": "line",
    "Trafo": "trafo",
    "Load": "load",
    "Sgen": "sgen",
    "Storage": "storage",
    "Switch": "switch",
}


def _meta() -> dict:
    models: dict[str, Any] = {
        "Grid": {
            "public": True,
            "params": [],
            "attrs": sorted(
                set(_RESULT_FIELDS)
                | set(_PROFILE_INPUTS)
                | set(_CONTROL_INPUTS)
                | set(_STATE_OUTPUTS)
                | {"events", "result", "switch_command", "command_operations", "static_losses_mw"}
                | {"sgen_available_p_mw", "fault_passed", "comms_lost"}
                | {"commands", "command_records"}
            ),
        }
    }
    for model in _ELEMENT_OUTPUTS:
        attrs = sorted(set(_ELEMENT_OUTPUTS[model]) | set(_ELEMENT_INPUTS[model]))
        models[model] = {"public": False, "params": [], "attrs": attrs}
    return {"api_version": "3.0", "type": "time-based", "models": models}


class GridSimulator(mosaik_api_v3.Simulator):
    """The grid: a pandapower net, its state and a power-flow engine.

    Simulator parameters (in-process): ``net`` (normalized pandapower net),
    ``engine`` (a :class:`~gridtwin.grid.engine.PowerFlowEngine`), ``step_s``;
    optionally ``static_engine`` (a second engine on the same net) for the
    static twin.
    """

    def __init__(self) -> None:
        super().__init__(_meta())
        self.net: pp.pandapowerNet | None = None
        self.engine: PowerFlowEngine | None = None
        self.state: GridState | None = None
        self.result: PowerFlowResult | None = None
        self.step_s = 0
        self._eid_pos: dict[str, tuple[str, int]] = {}
        self._load_demand = np.zeros(0)
        self.static_engine: PowerFlowEngine | None = None
        self._static_topology: dict[str, np.ndarray] = {}
        self.static_losses_mw = float("nan")
        self.command_operations = 0
        self.graph: DeviceGraph | None = None
        self.faults: dict[int, tuple[FaultTrip, bool]] = {}  # line -> (trip, permanent)
        self.recloses: list[tuple[int, int]] = []  # (due time [s], line)
        self.comms_lost = False
        self.command_records: list = []

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> dict:
        self.net = sim_params["net"]
        self.engine = sim_params["engine"]
        self.step_s = int(sim_params["step_s"])
        self.state = GridState.from_net(self.net)
        self.graph = DeviceGraph.from_net(self.net)
        self.static_engine = sim_params.get("static_engine")
        if self.static_engine is not None:
            self._static_topology = {a: getattr(self.state, a).copy() for a in _STATIC_TOPOLOGY}
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[dict]:
        if model != "Grid" or num != 1:
            raise ValueError("create exactly one Grid; element entities are its children")
        assert self.net is not None
        children = []
        for child_model, table in _TABLE.items():
            for pos, name in enumerate(element_names(self.net, table)):
                eid = f"{table}-{pos}"
                self._eid_pos[eid] = (child_model, pos)
                children.append(
                    {"eid": eid, "type": child_model, "rel": [], "extra_info": {"name": name}}
                )
        return [{"eid": "grid", "type": "Grid", "rel": [], "children": children}]

    # --- stepping ----------------------------------------------------------------------

    def step(self, time: int, inputs: dict, max_advance: int) -> int:
        state = self.state
        assert state is not None and self.engine is not None
        state.bus_p_inj_mw[:] = 0.0
        state.bus_q_inj_mvar[:] = 0.0
        grid_inputs = inputs.get("grid", {})
        for attr, field in _PROFILE_INPUTS.items():
            if attr in grid_inputs:
                value = next(iter(grid_inputs[attr].values()))
                getattr(state, field)[:] = value
        for eid, attrs in inputs.items():
            if eid != "grid":
                self._element_input(eid, attrs)
        self.command_operations = 0
        due = [
            e
            for at_s, events in grid_inputs.get("events", {}).values()
            if at_s == time
            for e in events
        ]
        for event in due:
            if event.type in ("comms_loss", "comms_restore"):
                self.comms_lost = event.type == "comms_loss"
        for command in grid_inputs.get("switch_command", {}).values():
            if isinstance(command, SwitchCommand) and command.at_s == time and not self.comms_lost:
                self.command_operations += command.apply(state)
        self.command_records = []
        for at_s, arrived in grid_inputs.get("commands", {}).values():
            if at_s == time and arrived:
                effects, ops = apply_commands(state, arrived)
                self.command_operations += ops
                self.command_records = arrival_records(arrived, time, effects)
        self._reclose(time)
        self._retrip()
        static = replace(state, **self._static_topology) if self.static_engine is not None else None
        for at_s, events in grid_inputs.get("events", {}).values():
            if at_s == time:
                for event in events:
                    event.apply(state)
                    if static is not None:
                        event.apply(static)  # events only assign: applying twice is harmless
                    if event.type in ("line_fault", "repair"):
                        self._protect(event, time)
        for attr, field in _CONTROL_INPUTS.items():
            if attr in grid_inputs:
                value = next(iter(grid_inputs[attr].values()))
                getattr(state, field)[:] = value
                if static is not None and field in self._static_topology:
                    self._static_topology[field][:] = value
        self._load_demand = state.load_p_mw * state.load_scale  # after events: what pf uses
        self.result = self.engine.solve(state)
        if static is not None:
            assert self.static_engine is not None
            self.static_losses_mw = float(self.static_engine.solve(static).losses_mw)
        return time + self.step_s

    # --- protection ---------------------------------------------------------------------

    def _protect(self, event: Any, time: int) -> None:
        """Trip for a ``line_fault``; put a repaired line back and reclose its breaker."""
        state = self.state
        assert state is not None and self.graph is not None
        params = dict(event.params)
        for line in event.positions:
            if event.type == "line_fault":
                trip = trip_for_fault(
                    self.graph,
                    state.switch_closed,
                    state.line_in_service,
                    line,
                    state.trafo_in_service,
                )
                state.switch_closed[list(trip.breakers)] = False
                permanent = params.get("permanent", 1.0) >= 0.5
                self.faults[line] = (trip, permanent)
                if permanent:
                    state.line_in_service[line] = False
                else:
                    self.recloses.append((time + int(params.get("dead_time_s", 1.0)), line))
            else:  # repair
                trip_perm = self.faults.pop(line, None)
                if trip_perm is not None:
                    state.switch_closed[list(trip_perm[0].breakers)] = True
                self._retrip()

    def _reclose(self, time: int) -> None:
        """Reclose the breakers of temporary faults whose dead time is over."""
        state = self.state
        assert state is not None
        keep = []
        for due_s, line in self.recloses:
            if due_s > time:
                keep.append((due_s, line))
                continue
            trip_perm = self.faults.pop(line, None)
            if trip_perm is not None:
                state.switch_closed[list(trip_perm[0].breakers)] = True
        self.recloses = keep

    def _retrip(self) -> None:
        """Trip again where an unrepaired permanent fault is fed again."""
        state = self.state
        assert state is not None and self.graph is not None
        for line, (trip, permanent) in list(self.faults.items()):
            if not permanent:
                continue
            in_service = state.line_in_service.copy()
            in_service[line] = True
            again = trip_for_fault(
                self.graph, state.switch_closed, in_service, line, state.trafo_in_service
            )
            if again.breakers:
                state.switch_closed[list(again.breakers)] = False
                passed = tuple(sorted(set(trip.passed) | set(again.passed)))
                self.faults[line] = (FaultTrip(trip.breakers + again.breakers, passed), True)

    def fault_passed(self) -> np.ndarray:
        """Per switch: fault current of an active fault passed it."""
        assert self.state is not None
        out = np.zeros(len(self.state.switch_closed), dtype=bool)
        for trip, _ in self.faults.values():
            out[list(trip.passed)] = True
        return out

    def _element_input(self, eid: str, attrs: dict[str, dict[str, Any]]) -> None:
        state = self.state
        assert state is not None
        model, pos = self._eid_pos[eid]

        def total(attr: str) -> float:
            return float(sum(attrs[attr].values()))

        def last(attr: str) -> Any:
            return list(attrs[attr].values())[-1]

        if model == "Bus":
            gen_p = total("P_gen[MW]") if "P_gen[MW]" in attrs else 0.0
            load_p = total("P_load[MW]") if "P_load[MW]" in attrs else 0.0
            gen_q = total("Q_gen[MVar]") if "Q_gen[MVar]" in attrs else 0.0
            load_q = total("Q_load[MVar]") if "Q_load[MVar]" in attrs else 0.0
            state.bus_p_inj_mw[pos] += gen_p - load_p
            state.bus_q_inj_mvar[pos] += gen_q - load_q
        elif model == "Load":
            if "P[MW]" in attrs:
                state.load_p_mw[pos] = total("P[MW]")
            if "Q[MVar]" in attrs:
                state.load_q_mvar[pos] = total("Q[MVar]")
        elif model == "Sgen":
            if "P[MW]" in attrs:
                state.sgen_p_mw[pos] = total("P[MW]")
            if "P_max[MW]" in attrs:
                state.sgen_p_limit_mw[pos] = float(last("P_max[MW]"))
            if "Q_set[MVar]" in attrs:
                state.sgen_q_set_mvar[pos] = float(last("Q_set[MVar]"))
        elif model == "Storage" and "P[MW]" in attrs:
            state.storage_p_mw[pos] = total("P[MW]")
        elif model == "Switch" and "closed" in attrs:
            state.switch_closed[pos] = bool(last("closed"))
        elif model == "Line" and "in_service" in attrs:
            state.line_in_service[pos] = bool(last("in_service"))
        elif model == "Trafo" and "tap_pos" in attrs:
            state.trafo_tap_pos[pos] = int(last("tap_pos"))

    # --- outputs -----------------------------------------------------------------------

    def _value(self, source: str) -> Any:
        if source.startswith("state:"):
            return getattr(self.state, source[6:])
        if source == "result":
            return self.result
        if source == "load_demand_p_mw":
            return self._load_demand
        if source == "static_losses_mw":
            return self.static_losses_mw
        if source == "command_operations":
            return self.command_operations
        if source == "fault_passed":
            return self.fault_passed()
        if source == "comms_lost":
            return self.comms_lost
        if source == "command_records":
            return self.command_records
        if source == "switch_command":
            return None
        if source in _STATE_OUTPUTS:
            return getattr(self.state, source).copy()
        if source == "sgen_available_p_mw":  # before curtailment (what the units could give)
            assert self.state is not None
            return self.state.sgen_p_mw * self.state.sgen_scale
        return getattr(self.result, source)

    def get_data(self, outputs: dict) -> dict:
        data: dict[str, dict[str, Any]] = {}
        for eid, attrs in outputs.items():
            if eid == "grid":
                data[eid] = {attr: self._value(attr) for attr in attrs}
                continue
            model, pos = self._eid_pos[eid]
            mapping = _ELEMENT_OUTPUTS[model]
            values: dict[str, Any] = {}
            for attr in attrs:
                if attr == "I[kA]":
                    assert self.result is not None
                    values[attr] = float(
                        max(self.result.line_i_from_ka[pos], self.result.line_i_to_ka[pos])
                    )
                    continue
                item = self._value(mapping[attr])[pos]
                values[attr] = item.item() if isinstance(item, np.generic) else item
            data[eid] = values
        return data
