"""Scheduled events: what each type does to the grid state, in one registry.

Adding an event type is one entry in :data:`EVENT_TYPES`: the element table it
targets, its parameters (validated at load), the type that undoes it (for
``duration``), and a pure function that applies it to a
:class:`~gridtwin.grid.state.GridState`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandapower as pp

from gridtwin.grid.state import GridState

__all__ = [
    "EVENT_TYPES",
    "EventType",
    "Param",
    "ScheduledEvent",
    "build_schedule",
    "resolve_target",
]


@dataclass(frozen=True, slots=True)
class Param:
    """One numeric event parameter with its allowed range."""

    description: str
    low: float = -np.inf
    high: float = np.inf
    required: bool = True
    default: float = 0.0


@dataclass(frozen=True, slots=True)
class EventType:
    """An event type: its target table, parameters, inverse and effect."""

    element: str
    apply: Callable[[GridState, np.ndarray, dict[str, float]], None]
    params: dict[str, Param] = field(default_factory=dict)
    inverse: tuple[str, dict[str, float]] | None = None
    allow_all: bool = False
    description: str = ""
    domain: str = "grid"  # "grid": the grid state; "sensors": the sensor model; "controller"


def _set(attr: str, value: bool) -> Callable[[GridState, np.ndarray, dict[str, float]], None]:
    def apply(state: GridState, positions: np.ndarray, params: dict[str, float]) -> None:
        getattr(state, attr)[positions] = value

    return apply


def _scale(attr: str) -> Callable[[GridState, np.ndarray, dict[str, float]], None]:
    def apply(state: GridState, positions: np.ndarray, params: dict[str, float]) -> None:
        getattr(state, attr)[positions] = params["factor"]

    return apply


_FACTOR = {"factor": Param("a scaling factor [-]", low=0.0, high=1e4)}


def _no_grid_effect(state: GridState, positions: np.ndarray, params: dict[str, float]) -> None:
    """Sensor events leave the grid alone; the sensor simulator applies them."""


def _bad_data(mode: str, params: dict[str, Param] | None = None) -> EventType:
    return EventType(
        "measurement",
        _no_grid_effect,
        params=params or {},
        inverse=("bad_data_clear", {}),
        description=f"measurement reports bad data ({mode})",
        domain="sensors",
    )


EVENT_TYPES: dict[str, EventType] = {
    "switch_open": EventType(
        "switch",
        _set("switch_closed", False),
        inverse=("switch_close", {}),
        description="open a switch",
    ),
    "switch_close": EventType(
        "switch",
        _set("switch_closed", True),
        inverse=("switch_open", {}),
        description="close a switch",
    ),
    "line_outage": EventType(
        "line",
        _set("line_in_service", False),
        inverse=("line_restore", {}),
        description="take a line out of service",
    ),
    "line_restore": EventType(
        "line",
        _set("line_in_service", True),
        inverse=("line_outage", {}),
        description="put a line back in service",
    ),
    "load_scale": EventType(
        "load",
        _scale("load_scale"),
        params=_FACTOR,
        inverse=("load_scale", {"factor": 1.0}),
        allow_all=True,
        description="multiply a load's (or all loads') demand by factor",
    ),
    "sgen_scale": EventType(
        "sgen",
        _scale("sgen_scale"),
        params=_FACTOR,
        inverse=("sgen_scale", {"factor": 1.0}),
        allow_all=True,
        description="multiply an sgen's (or all sgens') power by factor",
    ),
    "bad_data": _bad_data(
        "gross error of k_sigma standard deviations",
        {
            "k_sigma": Param(
                "the gross error [sigma]", low=-1e6, high=1e6, required=False, default=20.0
            )
        },
    ),
    "bad_data_stuck": _bad_data("stuck at its last value"),
    "bad_data_sign_flip": _bad_data("sign flipped"),
    "bad_data_clear": EventType(
        "measurement",
        _no_grid_effect,
        description="end bad data on a measurement",
        domain="sensors",
    ),
    "reconfigure": EventType(
        "controller",
        _no_grid_effect,
        description="ask the reconfiguration controller to plan now (target: reconfiguration)",
        domain="controller",
    ),
    "line_fault": EventType(
        "line",
        _no_grid_effect,  # the grid simulator's protection acts (gridtwin.grid.protection)
        params={
            "permanent": Param(
                "1 permanent, 0 temporary [-]", low=0, high=1, required=False, default=1.0
            ),
            "dead_time_s": Param(
                "the reclose dead time of a temporary fault [s]",
                low=0,
                high=86400,
                required=False,
                default=1.0,
            ),
        },
        description="a short circuit on a line: protection trips the nearest upstream breaker; "
        "a permanent fault keeps the line out until repair, a temporary one is cleared by a "
        "reclose after dead_time_s",
    ),
    "repair": EventType(
        "line",
        _set("line_in_service", True),
        description="a faulted line is repaired: back in service, its tripped breaker reclosed",
    ),
    "sgen_trip": EventType(
        "sgen",
        _set("sgen_scale", False),
        inverse=("sgen_reconnect", {}),
        allow_all=True,
        description="an sgen (or all sgens) disconnects",
    ),
    "sgen_reconnect": EventType(
        "sgen",
        _set("sgen_scale", True),
        inverse=("sgen_trip", {}),
        allow_all=True,
        description="a tripped sgen reconnects",
    ),
    "measurement_outage": EventType(
        "measurement",
        _no_grid_effect,
        inverse=("bad_data_clear", {}),
        description="a measurement, or every measurement of a device class (target scada, "
        "pmu, smart_meter or pseudo), is silent (no reading arrives) until cleared",
        domain="sensors",
    ),
    "comms_loss": EventType(
        "controller",
        _no_grid_effect,  # the grid simulator drops switch commands while it lasts
        inverse=("comms_restore", {}),
        description="switch commands from controllers do not reach the grid (target: all)",
    ),
    "comms_restore": EventType(
        "controller",
        _no_grid_effect,
        inverse=("comms_loss", {}),
        description="end of a comms_loss (target: all)",
    ),
}
"""Every event type gridtwin knows, by name."""

SENSOR_MODES = {
    "bad_data": "gross",
    "bad_data_stuck": "stuck",
    "bad_data_sign_flip": "sign_flip",
    "measurement_outage": "silent",
}
"""Bad-data event types and the sensor model's mode for each."""


def resolve_target(
    net: pp.pandapowerNet, element: str, target: str | int, *, allow_all: bool = False
) -> np.ndarray:
    """Positions in ``net[element]`` that ``target`` names.

    Parameters
    ----------
    target : str or int
        A pandapower index, an element name, or ``all`` where allowed.

    Raises
    ------
    LookupError
        With a message saying what was expected.
    """
    table = net[element]
    if isinstance(target, str) and target == "all":
        if not allow_all:
            raise LookupError(f"got 'all'; expected one {element} (name or index)")
        return np.arange(len(table))
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        label = int(target)
        if label in table.index:
            return np.array([table.index.get_loc(label)])
        if not isinstance(target, str):
            raise LookupError(
                f"got {target!r}; no {element} has index {label} "
                f"(expected 0..{len(table) - 1} or a name)"
            )
    names = table["name"].astype(str).to_numpy() if "name" in table else np.array([])
    hits = np.flatnonzero(names == str(target))
    if len(hits) == 1:
        return hits
    if len(hits) > 1:
        raise LookupError(f"got {target!r}; {len(hits)} {element}s have this name, use an index")
    import difflib

    hint = difflib.get_close_matches(str(target), list(names), n=1)
    raise LookupError(
        f"got {target!r}; no {element} of that name"
        + (f" (did you mean {hint[0]!r}?)" if hint else f"; expected a {element} name or index")
    )


def measurement_positions(plan: object, event_type: str, target: str) -> np.ndarray:
    """Scalar positions a measurement event targets: one measurement by name, or for
    ``measurement_outage`` a whole device class (``scada``, ``pmu``, ``smart_meter``,
    ``pseudo``).

    Raises
    ------
    LookupError
        If no measurement (or none of the class) matches.
    """
    from gridtwin.simulators.sensors import CLASS_NAMES

    p: Any = plan
    if event_type == "measurement_outage" and target in CLASS_NAMES:
        hits = np.flatnonzero(p.ch_class[p.sc_channel] == CLASS_NAMES.index(target))
        if not len(hits):
            raise LookupError(f"got {target!r}; the measurement plan has no {target} device")
        return hits
    return np.array([p.scalar_index(target)])


@dataclass(frozen=True, slots=True, order=True)
class ScheduledEvent:
    """An event at a time [s after start], resolved to element positions."""

    time_s: int
    order: int
    type: str
    target: str
    positions: tuple[int, ...]
    params: tuple[tuple[str, float], ...] = ()

    @property
    def domain(self) -> str:
        """``grid``, ``sensors`` or ``controller``: which simulator acts on this event."""
        return EVENT_TYPES[self.type].domain

    def apply(self, state: GridState) -> None:
        """Apply this event to ``state`` in place."""
        EVENT_TYPES[self.type].apply(
            state, np.asarray(self.positions, dtype=np.int64), dict(self.params)
        )


def build_schedule(
    scenario: object, net: pp.pandapowerNet, plan: object | None = None
) -> list[ScheduledEvent]:
    """All events of a scenario with their undo events, sorted by time then file order.

    Expects a scenario already checked by :func:`gridtwin.scenario.check_against_net`;
    ``plan`` (a :class:`~gridtwin.simulators.sensors.SensorPlan`) resolves
    measurement targets.
    """
    from gridtwin.scenario.eventtime import event_offset_s

    out: list[ScheduledEvent] = []
    for i, spec in enumerate(scenario.events):  # type: ignore[attr-defined]
        kind = EVENT_TYPES[spec.type]
        if kind.element == "measurement":
            positions = measurement_positions(plan, spec.type, str(spec.target))
        elif kind.element == "controller":
            positions = np.zeros(0, dtype=np.int64)
        else:
            positions = resolve_target(net, kind.element, spec.target, allow_all=kind.allow_all)
        at_s = event_offset_s(scenario, i)  # type: ignore[arg-type]
        params = tuple(sorted(spec.params().items()))
        out.append(
            ScheduledEvent(at_s, 2 * i, spec.type, str(spec.target), tuple(positions), params)
        )
        if spec.duration is not None and kind.inverse is not None:
            end = at_s + spec.duration
            if end < scenario.time.duration:  # type: ignore[attr-defined]
                inv_type, inv_params = kind.inverse
                out.append(
                    ScheduledEvent(
                        end,
                        2 * i + 1,
                        inv_type,
                        str(spec.target),
                        tuple(positions),
                        tuple(sorted(inv_params.items())),
                    )
                )
    return sorted(out)
