"""The checks of a scenario that need its network: targets, times, plan, files."""

from __future__ import annotations

from typing import Any

from gridtwin.errors import InputError
from gridtwin.scenario.eventtime import event_offset_s
from gridtwin.scenario.limits import check_run_size
from gridtwin.scenario.model import Scenario
from gridtwin.timeparse import format_duration

__all__ = [
    "check_against_net",
    "measurement_plan",
]


def measurement_plan(scenario: Scenario, net: Any) -> Any:
    """The scenario's measurement plan resolved against ``net`` (None without one).

    Raises
    ------
    InputError
        If a plan entry names an element that does not exist.
    """
    from gridtwin.measurements import resolve_plan

    if scenario.measurements is None:
        return None
    seed = scenario.measurements.seed
    try:
        return resolve_plan(
            net, scenario.measurements, seed=scenario.seed if seed is None else seed
        )
    except LookupError as exc:
        index, message = exc.args
        raise InputError(
            scenario.source_file, f"measurements.plan[{index}].names", message
        ) from None


def _event_where(scenario: Scenario, index: int, name: str) -> tuple[str, str]:
    """(file, field) naming event ``index``: the scenario's ``events`` or a row of its event log."""
    n_inline = getattr(scenario, "_n_inline_events", len(scenario.events))
    if index < n_inline or not scenario.events_file:
        return scenario.source_file, f"events[{index}].{name}"
    return scenario.events_file, f"event {index - n_inline + 1}.{name}"


def _check_event_time(scenario: Scenario, i: int) -> None:
    event = scenario.events[i]
    at_s = event_offset_s(scenario, i)
    if not 0 <= at_s < scenario.time.duration:
        raise InputError(
            *_event_where(scenario, i, "at"),
            f"got {event.at!r}, outside the run; expected a time in "
            f"[0, {format_duration(scenario.time.duration)}) after time.start",
        )
    if at_s % scenario.time.step:
        raise InputError(
            *_event_where(scenario, i, "at"),
            f"got {event.at!r}; expected a multiple of time.step "
            f"({format_duration(scenario.time.step)})",
        )


def _check_event_target(scenario: Scenario, event: Any, net: Any, plan: Any) -> None:
    """Raise LookupError when ``event``'s target does not exist."""
    from gridtwin.events import EVENT_TYPES, measurement_positions
    from gridtwin.grid.topology import resolve_target

    kind = EVENT_TYPES[event.type]
    if event.type in ("comms_loss", "comms_restore"):
        if str(event.target) != "all":
            raise LookupError(f"got {event.target!r}; expected all")
    elif kind.element == "measurement":
        if plan is None:
            raise LookupError(
                f"{event.type} needs a measurements section; expected measurements.plan"
            )
        measurement_positions(plan, event.type, str(event.target))
    elif kind.element == "controller":
        if scenario.reconfiguration is None:
            raise LookupError(
                f"{event.type} needs a reconfiguration section; expected reconfiguration"
            )
        if str(event.target) != "reconfiguration":
            raise LookupError(f"got {event.target!r}; expected reconfiguration")
    else:
        resolve_target(net, kind.element, event.target, allow_all=kind.allow_all)


def check_against_net(scenario: Scenario, net: Any) -> Any:
    """Check the parts of a scenario that depend on the network.

    The run size comes first (a huge run is refused before anything is
    built); then event targets must name existing elements (by name or index)
    and event times must fall on a step inside the run; then the files the
    scenario names.

    Raises
    ------
    InputError
        On the first problem found.
    """
    from gridtwin.grid.topology import resolve_target

    check_run_size(scenario, net)
    plan = measurement_plan(scenario, net)
    for i, event in enumerate(scenario.events):
        _check_event_time(scenario, i)
        try:
            _check_event_target(scenario, event, net, plan)
        except LookupError as exc:
            raise InputError(*_event_where(scenario, i, "target"), str(exc)) from None
    if scenario.measurements_file:
        from gridtwin.measurement_log import read_measurement_log

        read_measurement_log(scenario.measurements_file, scenario, plan)
    if scenario.flisr is not None and scenario.flisr.indicators != "all":
        for i, name in enumerate(scenario.flisr.indicators):
            try:
                resolve_target(net, "switch", name)
            except LookupError as exc:
                raise InputError(scenario.source_file, f"flisr.indicators[{i}]", str(exc)) from None
    return plan
