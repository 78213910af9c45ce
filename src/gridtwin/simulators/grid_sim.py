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

The physics (input order, protection, comms loss, the static twin) lives in
:class:`gridtwin.grid.physical.PhysicalGrid`; this adapter only translates
ports. A failed power flow yields NaN outputs and ``converged`` False; the
next step goes on. Output ``fault_passed``: per switch, whether fault current
of an active fault passed it (what a fault passage indicator there shows).
``comms_loss`` ... ``comms_restore`` events: switch commands are dropped
meanwhile. ``static_losses_mw`` is testbed-side truth; no controller sees it.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
import numpy as np
import pandapower as pp
from mosaik_api_v3.types import CreateResult, Meta

from gridtwin.grid.engine import RESULT_FIELDS, PowerFlowResult
from gridtwin.grid.physical import CONTROL_INPUTS, PROFILE_INPUTS, PhysicalGrid
from gridtwin.grid.state import GridState, SwitchCommand
from gridtwin.grid.topology import element_names
from gridtwin.simulators.channel import CommandRecord, arrival_records

__all__ = ["GridSimulator"]

_STATE_OUTPUTS = ["switch_closed", "line_in_service", "trafo_tap_pos", "load_demand_p_mw"]

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
_SUMMED = {  # (entity, input) -> state field, summed over sources
    ("Load", "P[MW]"): "load_p_mw",
    ("Load", "Q[MVar]"): "load_q_mvar",
    ("Sgen", "P[MW]"): "sgen_p_mw",
    ("Storage", "P[MW]"): "storage_p_mw",
}
_LAST: dict[tuple[str, str], tuple[str, type]] = {  # -> (state field, type), last source
    ("Sgen", "P_max[MW]"): ("sgen_p_limit_mw", float),
    ("Sgen", "Q_set[MVar]"): ("sgen_q_set_mvar", float),
    ("Switch", "closed"): ("switch_closed", bool),
    ("Line", "in_service"): ("line_in_service", bool),
    ("Trafo", "tap_pos"): ("trafo_tap_pos", int),
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
                set(RESULT_FIELDS)
                | set(PROFILE_INPUTS)
                | set(CONTROL_INPUTS)
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
        self.grid: PhysicalGrid | None = None
        self.step_s = 0
        self._eid_pos: dict[str, tuple[str, int]] = {}
        self.command_records: list[CommandRecord] = []

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.net = sim_params["net"]
        self.step_s = int(sim_params["step_s"])
        self.grid = PhysicalGrid(
            self.net, sim_params["engine"], static_engine=sim_params.get("static_engine")
        )
        return self.meta

    @property
    def state(self) -> GridState:
        """The true grid state (of :attr:`grid`)."""
        assert self.grid is not None
        return self.grid.state

    @property
    def result(self) -> PowerFlowResult | None:
        """The last power flow's result."""
        assert self.grid is not None
        return self.grid.result

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        if model != "Grid" or num != 1:
            raise ValueError("create exactly one Grid; element entities are its children")
        assert self.net is not None
        children: list[CreateResult] = []
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
        grid = self.grid
        assert grid is not None
        grid_inputs = inputs.get("grid", {})

        def first(attr: str) -> Any:
            return next(iter(grid_inputs[attr].values()))

        grid.start_step({f: first(f) for f in PROFILE_INPUTS if f in grid_inputs})
        for eid, attrs in inputs.items():
            if eid != "grid":
                self._element_input(eid, attrs)
        due = [
            e
            for at_s, events in grid_inputs.get("events", {}).values()
            if at_s == time
            for e in events
        ]
        commands = [
            c
            for c in grid_inputs.get("switch_command", {}).values()
            if isinstance(c, SwitchCommand)
        ]
        controls = {a: first(a) for a in CONTROL_INPUTS if a in grid_inputs}
        arrived = [
            c
            for at_s, delivered in grid_inputs.get("commands", {}).values()
            if at_s == time
            for c in delivered
        ]
        grid.finish_step(time, due, commands, controls, arrived)
        self.command_records = arrival_records(arrived, time, grid.command_effects)
        return time + self.step_s

    def _element_input(self, eid: str, attrs: dict[str, dict[str, Any]]) -> None:
        state = self.state
        model, pos = self._eid_pos[eid]
        if model == "Bus":

            def total(attr: str) -> float:
                return float(sum(attrs[attr].values())) if attr in attrs else 0.0

            state.bus_p_inj_mw[pos] += total("P_gen[MW]") - total("P_load[MW]")
            state.bus_q_inj_mvar[pos] += total("Q_gen[MVar]") - total("Q_load[MVar]")
            return
        for attr, values in attrs.items():
            if (model, attr) in _SUMMED:  # powers of several sources add up
                getattr(state, _SUMMED[model, attr])[pos] = float(sum(values.values()))
            elif (model, attr) in _LAST:  # a set-point or position: the last source wins
                field, kind = _LAST[model, attr]
                getattr(state, field)[pos] = kind(list(values.values())[-1])

    # --- outputs -----------------------------------------------------------------------

    def _value(self, source: str) -> Any:
        grid = self.grid
        assert grid is not None
        if source.startswith("state:"):
            return getattr(grid.state, source[6:])
        if source == "result":
            return grid.result
        if source == "load_demand_p_mw":
            return grid.load_demand_p_mw
        if source == "static_losses_mw":
            return grid.static_losses_mw
        if source == "command_operations":
            return grid.command_operations
        if source == "fault_passed":
            return grid.fault_passed()
        if source == "comms_lost":
            return grid.comms_lost
        if source == "command_records":
            return self.command_records
        if source == "switch_command":
            return None
        if source in _STATE_OUTPUTS:
            return getattr(grid.state, source).copy()
        if source == "sgen_available_p_mw":
            return grid.sgen_available_p_mw
        return getattr(grid.result, source)

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
