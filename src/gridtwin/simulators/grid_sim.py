"""mosaik simulator of the grid: state in, one power flow per step, results out.

Entities
--------
``Grid`` (one): whole vectors for gridtwin's own components.
    inputs: ``load_p_mw``, ``load_q_mvar``, ``sgen_p_mw``, ``sgen_q_mvar``,
    ``storage_p_mw`` (profiles); ``events``; control inputs
    ``switch_closed``, ``line_in_service``, ``trafo_tap_pos``,
    ``sgen_p_limit_mw``, ``sgen_q_set_mvar``, ``storage_p_set_mw``;
    ``commands`` (``(time_s, [Command, ...])`` from the command channel,
    applied at ``time_s``: every automation function's commands come this way).
    outputs: every :class:`~gridtwin.grid.engine.PowerFlowResult` field
    (``bus_vm_pu``, ``line_loading_percent``, ``losses_mw``, ``converged``, ...),
    the applied ``load_demand_p_mw``, ``sgen_available_p_mw`` (before curtailment) and the
    state's ``switch_closed``,
    ``line_in_service``, ``trafo_tap_pos``; ``result``, the whole
    :class:`~gridtwin.grid.engine.PowerFlowResult` (for the recorder);
    ``command_operations``, the switches and lines the delivered commands
    changed this step; ``command_records``, whether each took effect;
    ``static_losses_mw``, the losses of the same step in the starting
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
Each Load, Sgen, Storage, Line, Trafo and Switch entity is related (mosaik
``rel``) to its buses, and a switch also to the bus, line or trafo it
switches; ``extra_info`` names them (``bus``, ``from_bus``/``to_bus``,
``hv_bus``/``lv_bus``, ``element``) with the pandapower ``index``.

In a process of its own (:func:`main`, ``python -m gridtwin.simulators.grid_sim
%(addr)s`` for mosaik's ``cmd:`` starter, ``--remote HOST:PORT`` for
``connect:``), the ``Grid`` is created from a SimBench code, a pandapower
network name or a pandapower JSON file (:data:`GRID_PARAMS`), and outputs are
plain JSON values.

The physics (input order, protection, the static twin) lives in
:class:`gridtwin.grid.physical.PhysicalGrid`; this adapter only translates
ports. A failed power flow yields NaN outputs and ``converged`` False; the
next step goes on. Output ``fault_passed``: per switch, whether fault current
of an active fault passed it (what a fault passage indicator there shows).
A ``comms_loss`` is the command channel's (:mod:`gridtwin.simulators.channel`):
the grid applies what the channel delivers. ``static_losses_mw`` is
testbed-side truth; no controller sees it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import mosaik_api_v3
import numpy as np
import pandapower as pp
from mosaik_api_v3.types import CreateResult, Meta

from gridtwin.errors import InputError
from gridtwin.grid.engine import RESULT_FIELDS, PowerFlowEngine, PowerFlowResult
from gridtwin.grid.physical import CONTROL_INPUTS, PROFILE_INPUTS, PhysicalGrid
from gridtwin.grid.state import GridState
from gridtwin.grid.topology import element_names
from gridtwin.simulators.channel import CommandRecord, arrival_records

__all__ = ["GRID_PARAMS", "GridSimulator", "main"]

GRID_PARAMS = ("simbench", "network_function", "params", "json", "gridfile", "net", "engine")
"""Parameters of ``Grid`` (``create``): one network source and the engine name."""

_SOURCE = "<mosaik Grid>"
_DEFAULT_STEP_S = 900  # mosaik-pandapower-2's default step size

AHEAD_STEPS = 96
"""Steps the grid solves ahead in one batch when only profiles drive it (``_solve_ahead``)."""

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
        "I[kA]": "line_i_ka",
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
            "params": list(GRID_PARAMS),
            "attrs": sorted(
                set(RESULT_FIELDS)
                | set(PROFILE_INPUTS)
                | set(CONTROL_INPUTS)
                | set(_STATE_OUTPUTS)
                | {"events", "result", "command_operations", "static_losses_mw"}
                | {"sgen_available_p_mw", "fault_passed"}
                | {"commands", "command_records"}
            ),
        }
    }
    for model in _ELEMENT_OUTPUTS:
        attrs = sorted(set(_ELEMENT_OUTPUTS[model]) | set(_ELEMENT_INPUTS[model]))
        models[model] = {"public": False, "params": [], "attrs": attrs}
    return {"api_version": "3.0", "type": "time-based", "models": models}


@dataclass(frozen=True)
class _GridSource:
    """A network source as :func:`~gridtwin.grid.sources.load_net` reads it."""

    simbench: str | None = None
    pandapower: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    file: str | None = None
    cgmes: str | None = None
    engine: str = "power-grid-model"


def _grid_source(params: dict[str, Any]) -> tuple[_GridSource, str]:
    """The one network source among ``Grid``'s parameters, and the parameter that named it."""
    given = [p for p in ("simbench", "network_function", "json", "gridfile") if params.get(p)]
    if len(given) != 1:
        raise InputError(
            _SOURCE,
            "create",
            f"got {given or 'no network source'}; expected exactly one of simbench=CODE, "
            "network_function=NAME (with params={...}), json=PATH or gridfile=CODE|NAME|PATH",
        )
    name, value = given[0], str(params[given[0]])
    engine = str(params.get("engine") or "power-grid-model")
    if name == "gridfile":  # mosaik-pandapower's one parameter for all three
        name = "json" if value.lower().endswith(".json") else _code_or_name(value)
    if name == "simbench":
        return _GridSource(simbench=value, engine=engine), "simbench"
    if name == "network_function":
        options = dict(params.get("params") or {})
        return _GridSource(pandapower=value, options=options, engine=engine), name
    return _GridSource(file=value, engine=engine), "json"


def _code_or_name(value: str) -> str:
    """``network_function`` when ``value`` names a pandapower network, else ``simbench``."""
    import pandapower.networks as pn

    from gridtwin.grid.sources import PANDAPOWER_ALIASES

    known = value in PANDAPOWER_ALIASES or callable(getattr(pn, value, None))
    return "network_function" if known and not value.startswith("_") else "simbench"


def _load_grid(params: dict[str, Any]) -> tuple[pp.pandapowerNet, PowerFlowEngine]:
    """The normalized net and its engine from ``Grid``'s parameters."""
    from gridtwin.grid.factory import make_engine
    from gridtwin.grid.sources import load_net, normalize_net

    engine_name = str(params.get("engine") or "power-grid-model")
    if engine_name not in ("power-grid-model", "pandapower"):
        raise InputError(
            _SOURCE, "engine", f"got {engine_name!r}; expected power-grid-model or pandapower"
        )
    if params.get("net") is not None:  # in-process only: a pandapowerNet object
        net = normalize_net(pp.from_json_string(pp.to_json(params["net"])), _SOURCE, engine_name)
        return net, make_engine(engine_name, net)
    spec, param = _grid_source(params)
    try:
        net = load_net(spec, _SOURCE)
    except InputError as exc:
        field_name = {"grid.options": "params"}.get(exc.field, param)
        field_name = field_name if exc.field.startswith("grid.") else exc.field
        raise InputError(exc.file, field_name, exc.message) from None
    return net, make_engine(engine_name, net)


_BUS_COLUMNS = {  # entity -> (pandapower bus column, extra_info key)
    "Load": (("bus", "bus"),),
    "Sgen": (("bus", "bus"),),
    "Storage": (("bus", "bus"),),
    "Line": (("from_bus", "from_bus"), ("to_bus", "to_bus")),
    "Trafo": (("hv_bus", "hv_bus"), ("lv_bus", "lv_bus")),
    "Switch": (("bus", "bus"),),
}
_SWITCH_ELEMENT = {"b": "bus", "l": "line", "t": "trafo"}  # switch et -> table of its element


def _relations(net: pp.pandapowerNet, model: str, pos: int) -> dict[str, str]:
    """The entities element ``pos`` of ``model`` connects to: extra_info key -> entity id."""
    table = _TABLE[model]
    if model not in _BUS_COLUMNS:
        return {}
    row = net[table].iloc[pos]
    bus_pos = net.bus.index.get_loc
    out = {key: f"bus-{bus_pos(int(row[col]))}" for col, key in _BUS_COLUMNS[model]}
    if model == "Switch" and row["et"] in _SWITCH_ELEMENT:
        target = _SWITCH_ELEMENT[row["et"]]
        out["element"] = f"{target}-{net[target].index.get_loc(int(row['element']))}"
    return out


def _jsonable(value: Any) -> Any:
    """``value`` with numpy arrays, numpy scalars and dataclasses as plain JSON types."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class GridSimulator(mosaik_api_v3.Simulator):
    """The grid: a pandapower net, its state and a power-flow engine.

    Simulator parameters (``world.start``): ``step_s`` (or mosaik-pandapower-2's
    ``step_size``) [s], 900 when neither is given. In-process, gridtwin's own
    world also passes ``net`` (a normalized pandapower net), ``engine`` (a
    :class:`~gridtwin.grid.engine.PowerFlowEngine`) and optionally
    ``static_engine`` (a second engine on the same net) for the static twin,
    and ``profiles`` (a :class:`~gridtwin.profiles.Profiles`): the grid then
    reads row ``time // step_s`` itself each step, as a ``Profiles``
    simulator connected to it would give it, without a mosaik simulator
    (a profile input connected to ``Grid`` replaces it).

    Without ``net`` at start, ``Grid`` is created from what a mosaik user has
    (:data:`GRID_PARAMS`, mosaik-pandapower-2's names): ``simbench`` (a
    SimBench code), ``network_function`` (a ``pandapower.networks`` function,
    with its keyword arguments in ``params``), ``json`` (a pandapower JSON file),
    ``gridfile`` (mosaik-pandapower's one parameter for any of the three), or
    ``net`` (a pandapowerNet, in-process only); ``engine`` names the engine
    (``power-grid-model``, the default, or ``pandapower``).

    Parameters
    ----------
    json_outputs : bool
        Give ``get_data`` values as plain JSON types (lists instead of arrays),
        as a simulator in a process of its own must (:func:`main`).
    """

    def __init__(self, json_outputs: bool = False) -> None:
        super().__init__(_meta())
        self.net: pp.pandapowerNet | None = None
        self.grid: PhysicalGrid | None = None
        self.step_s = 0
        self.json_outputs = json_outputs
        self._eid_pos: dict[str, tuple[str, int]] = {}
        self.command_records: list[CommandRecord] = []
        self.profiles: Any = None
        self._ahead_from = 0  # first step index at which solving ahead is tried again
        self._ahead_backoff = 1  # steps to wait after a miss; doubles with every miss

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        step = sim_params.get("step_s", sim_params.get("step_size", _DEFAULT_STEP_S))
        self.step_s = int(step)
        if self.step_s <= 0:
            raise ValueError(f"step_s: got {step!r}; expected a step of at least 1 s")
        if sim_params.get("net") is not None:  # gridtwin's own world: net and engine objects
            self.net = sim_params["net"]
            self.grid = PhysicalGrid(
                self.net, sim_params["engine"], static_engine=sim_params.get("static_engine")
            )
        self.profiles = sim_params.get("profiles")
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
        if self.grid is None:
            self.net, engine = _load_grid(model_params)
            self.grid = PhysicalGrid(self.net, engine)
        elif model_params or self._eid_pos:
            raise ValueError("the Grid was given at start (net=) and is created once, as it is")
        net = self.net
        assert net is not None
        children: list[CreateResult] = []
        for child_model, table in _TABLE.items():
            for pos, name in enumerate(element_names(net, table)):
                eid = f"{table}-{pos}"
                self._eid_pos[eid] = (child_model, pos)
                related = _relations(net, child_model, pos)
                info = {"name": name, "index": int(net[table].index[pos]), **related}
                children.append(
                    {
                        "eid": eid,
                        "type": child_model,
                        "rel": list(dict.fromkeys(related.values())),
                        "extra_info": info,
                    }
                )
        return [{"eid": "grid", "type": "Grid", "rel": [], "children": children}]

    # --- stepping ----------------------------------------------------------------------

    def step(self, time: int, inputs: dict, max_advance: int) -> int:
        grid = self.grid
        assert grid is not None
        grid_inputs = inputs.get("grid", {})

        def first(attr: str) -> Any:
            return next(iter(grid_inputs[attr].values()))

        grid.start_step(
            self._profile_row(time) | {f: first(f) for f in PROFILE_INPUTS if f in grid_inputs}
        )
        for eid, attrs in inputs.items():
            if eid != "grid":
                self._element_input(eid, attrs)
        due = [
            e
            for at_s, events in grid_inputs.get("events", {}).values()
            if at_s == time
            for e in events
        ]
        controls = {a: first(a) for a in CONTROL_INPUTS if a in grid_inputs}
        arrived = [
            c
            for at_s, delivered in grid_inputs.get("commands", {}).values()
            if at_s == time
            for c in delivered
        ]
        grid.finish_step(time, due, controls, arrived)
        self.command_records = arrival_records(arrived, time, grid.command_effects)
        self._solve_ahead(time)
        return time + self.step_s

    def _solve_ahead(self, time: int) -> None:
        """With in-process profiles, have the engine solve the next steps in one batch.

        Only when nothing solved ahead is pending; after a miss (a step came
        otherwise than assumed: events, commands, control inputs) the next try
        waits, twice as long after every miss, so a closed loop that changes
        the grid every step pays almost nothing for it.
        """
        grid = self.grid
        engine: Any = getattr(grid, "engine", None)
        if self.profiles is None or grid is None or not hasattr(engine, "solve_ahead"):
            return
        if engine.ahead_pending:
            return
        k = time // self.step_s
        if engine.ahead_missed:
            engine.ahead_missed = False
            self._ahead_backoff = min(2 * self._ahead_backoff, 1 << 16)
            self._ahead_from = k + self._ahead_backoff
        if k < self._ahead_from:
            return
        n = min(AHEAD_STEPS, self.profiles.n_steps - k - 1)
        grid.solve_ahead([self._profile_row((k + j) * self.step_s) for j in range(1, n + 1)])

    def _profile_row(self, time: int) -> dict[str, Any]:
        """The step's row of the in-process ``profiles`` [MW, MVAr]; connected inputs win."""
        if self.profiles is None:
            return {}
        k = time // self.step_s
        return {f: self.profiles.at(*f.split("_", 1), k) for f in PROFILE_INPUTS}

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
        if source == "command_records":
            return self.command_records
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
                if self.json_outputs:
                    data[eid] = _jsonable(data[eid])
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


def main() -> int:
    """Run the grid simulator as a process of its own for mosaik.

    ``python -m gridtwin.simulators.grid_sim HOST:PORT`` connects to mosaik (its
    ``cmd:`` starter, with ``%(addr)s``); ``... --remote HOST:PORT`` waits for
    mosaik to connect (its ``connect:`` starter). The ``Grid`` is created from
    a SimBench code, a pandapower network name or a pandapower JSON file
    (see :class:`GridSimulator`), or from a scenario file (``scenario=PATH``
    at start, see :mod:`gridtwin.simulators.remote`). Outputs are plain JSON;
    ``wire="tagged"`` at start gives the tagged form other gridtwin
    simulators in processes of their own read.
    """
    import importlib  # gridtwin.remote is above the simulators: reached by name

    return int(importlib.import_module("gridtwin.remote").main("Grid", tagged_outputs=False))


if __name__ == "__main__":
    raise SystemExit(main())
