"""The physical grid of one run: state, protection, static twin and power flow (pure).

:class:`PhysicalGrid` is what :class:`~gridtwin.simulators.grid_sim.GridSimulator`
steps; it knows nothing of mosaik. One step, in this order:

1. :meth:`PhysicalGrid.start_step`: bus injections reset, profile powers set;
   the caller may then set per-element powers on :attr:`PhysicalGrid.state`;
2. :meth:`PhysicalGrid.finish_step`: the commands the command channel
   delivers now (:mod:`gridtwin.simulators.channel`: latency, loss and
   ``comms_loss`` are the channel's; the grid only applies what arrives);
   reclosing of temporary faults whose dead time is over; re-trips where a
   switch command feeds an unrepaired fault; the step's events (with
   protection for ``line_fault`` and ``repair``); control inputs; the power
   flow (and the static twin's).

Commands go before events: a command was issued a step earlier, and a
physical event in the same step (a trip, an outage) has the last word, as it
would in the field.

Protection (:mod:`gridtwin.grid.protection`): a ``line_fault`` trips the
nearest upstream breaker; a permanent fault takes the line out of service
until ``repair`` (which also recloses the breaker it tripped), a temporary one
recloses the breaker at the first step at least ``dead_time_s`` later. A
switch command that feeds an unrepaired fault again trips again.

The *static* twin (with a ``static_engine``) shares every input except the
switch and line positions the delivered commands set, so it stays in the
starting configuration apart from events and other actors' switchings; its
losses are the reference a reconfiguration is judged against. The static twin sees no protection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from gridtwin.grid.commands import Command, apply_commands
from gridtwin.grid.engine import PowerFlowEngine, PowerFlowResult
from gridtwin.grid.protection import DeviceGraph, FaultTrip, trip_for_fault
from gridtwin.grid.state import GridState

if TYPE_CHECKING:
    import pandapower as pp

__all__ = ["CONTROL_INPUTS", "PROFILE_INPUTS", "GridEvent", "PhysicalGrid"]

PROFILE_INPUTS = ("load_p_mw", "load_q_mvar", "sgen_p_mw", "sgen_q_mvar", "storage_p_mw")
"""State fields a profile sets each step [MW, MVAr]."""

CONTROL_INPUTS = {
    "switch_closed": "switch_closed",
    "line_in_service": "line_in_service",
    "trafo_tap_pos": "trafo_tap_pos",
    "sgen_p_limit_mw": "sgen_p_limit_mw",
    "sgen_q_set_mvar": "sgen_q_set_mvar",
    "storage_p_set_mw": "storage_p_mw",
}
"""Control input name -> the state field it sets."""

_STATIC_TOPOLOGY = ("switch_closed", "line_in_service")


class GridEvent(Protocol):
    """A scheduled event as :class:`~gridtwin.events.ScheduledEvent` gives it."""

    @property
    def type(self) -> str: ...

    @property
    def positions(self) -> tuple[int, ...]: ...

    @property
    def params(self) -> tuple[tuple[str, float], ...]: ...

    def apply(self, state: GridState) -> None: ...


class PhysicalGrid:
    """A net's true state stepped through commands, protection and power flow.

    Parameters
    ----------
    net : pandapowerNet
        The normalized net.
    engine : PowerFlowEngine
        The power-flow engine of the grid.
    static_engine : PowerFlowEngine, optional
        A second engine on the same net for the static twin.
    """

    def __init__(
        self,
        net: pp.pandapowerNet,
        engine: PowerFlowEngine,
        static_engine: PowerFlowEngine | None = None,
    ) -> None:
        self.engine = engine
        self.state = GridState.from_net(net)
        self.graph = DeviceGraph.from_net(net)
        self.static_engine = static_engine
        self._static_topology: dict[str, np.ndarray] = (
            {a: getattr(self.state, a).copy() for a in _STATIC_TOPOLOGY}
            if static_engine is not None
            else {}
        )
        self.result: PowerFlowResult | None = None
        self.static_losses_mw = float("nan")
        """Losses of the step in the starting configuration [MW]; NaN without static twin."""
        self.command_operations = 0
        """Switches and lines the step's delivered commands changed."""
        self.load_demand_p_mw = np.zeros(0)
        """Load demand of the step, after its events: what the power flow uses [MW]."""
        self.faults: dict[int, tuple[FaultTrip, bool]] = {}  # line -> (trip, permanent)
        self.recloses: list[tuple[int, int]] = []  # (due time [s], line)
        self.command_effects: list[bool] = []
        """Per command delivered this step: whether it changed the grid."""

    # --- one step ------------------------------------------------------------------------

    def start_step(self, profiles: Mapping[str, np.ndarray]) -> None:
        """Reset the bus injections and set the profile powers (:data:`PROFILE_INPUTS`)."""
        state = self.state
        state.bus_p_inj_mw[:] = 0.0
        state.bus_q_inj_mvar[:] = 0.0
        for name, value in profiles.items():
            getattr(state, name)[:] = value

    def finish_step(
        self,
        time_s: int,
        events: Iterable[GridEvent],
        controls: Mapping[str, np.ndarray],
        arrived: Sequence[Command] = (),
    ) -> PowerFlowResult:
        """Apply commands, events, protection and controls; solve the power flow.

        Parameters
        ----------
        time_s : int
            The step's time [s].
        events : iterable of ScheduledEvent
            The events due at ``time_s``, in schedule order.
        controls : mapping
            Control inputs by name (:data:`CONTROL_INPUTS`).
        arrived : sequence of Command
            Commands the command channel delivers at ``time_s``, in order (whether
            each took effect is in :attr:`command_effects`).
        """
        state = self.state
        due = list(events)
        self.command_effects, self.command_operations = apply_commands(state, arrived)
        self._reclose(time_s)
        self._retrip()
        static = replace(state, **self._static_topology) if self.static_engine is not None else None
        for event in due:
            event.apply(state)
            if static is not None:
                event.apply(static)  # events only assign: applying twice is harmless
            if event.type in ("line_fault", "repair"):
                self._protect(event, time_s)
        for name, value in controls.items():
            field = CONTROL_INPUTS[name]
            getattr(state, field)[:] = value
            if static is not None and field in self._static_topology:
                self._static_topology[field][:] = value
        self.load_demand_p_mw = state.load_p_mw * state.load_scale  # after events: what pf uses
        self.result = self.engine.solve(state)
        if static is not None and self.static_engine is not None:
            self.static_losses_mw = float(self.static_engine.solve(static).losses_mw)
        return self.result

    def solve_ahead(self, rows: Sequence[Mapping[str, np.ndarray]]) -> None:
        """Let the engine solve the coming steps now, if it can (``solve_ahead``).

        ``rows`` are the profile powers of the next steps (as :meth:`start_step`
        takes them); the rest of the state is assumed to stay as it is now. If
        a step turns out otherwise (an event, a command, a control input), the
        engine drops what it solved ahead and solves that step as usual.
        """
        solve_ahead = getattr(self.engine, "solve_ahead", None)
        if solve_ahead is None or not rows:
            return
        state = self.state
        zero = np.zeros_like(state.bus_p_inj_mw), np.zeros_like(state.bus_q_inj_mvar)
        injections = []
        for row in rows:
            values = {n: np.asarray(v, dtype=getattr(state, n).dtype) for n, v in row.items()}
            trial = replace(state, bus_p_inj_mw=zero[0], bus_q_inj_mvar=zero[1], **values)
            injections.append(trial.injections())
        solve_ahead(state, injections)

    # --- indications ---------------------------------------------------------------------

    def fault_passed(self) -> np.ndarray:
        """Per switch: fault current of an active fault passed it (a fault passage indicator)."""
        out = np.zeros(len(self.state.switch_closed), dtype=bool)
        for trip, _ in self.faults.values():
            out[list(trip.passed)] = True
        return out

    @property
    def sgen_available_p_mw(self) -> np.ndarray:
        """Sgen power before curtailment (what the units could give) [MW]."""
        return self.state.sgen_p_mw * self.state.sgen_scale

    # --- protection ----------------------------------------------------------------------

    def _protect(self, event: GridEvent, time_s: int) -> None:
        """Trip for a ``line_fault``; put a repaired line back and reclose its breaker."""
        state = self.state
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
                    self.recloses.append((time_s + int(params.get("dead_time_s", 1.0)), line))
            else:  # repair
                trip_perm = self.faults.pop(line, None)
                if trip_perm is not None:
                    state.switch_closed[list(trip_perm[0].breakers)] = True
                self._retrip()

    def _reclose(self, time_s: int) -> None:
        """Reclose the breakers of temporary faults whose dead time is over."""
        keep = []
        for due_s, line in self.recloses:
            if due_s > time_s:
                keep.append((due_s, line))
                continue
            trip_perm = self.faults.pop(line, None)
            if trip_perm is not None:
                self.state.switch_closed[list(trip_perm[0].breakers)] = True
        self.recloses = keep

    def _retrip(self) -> None:
        """Trip again where an unrepaired permanent fault is fed again."""
        state = self.state
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
