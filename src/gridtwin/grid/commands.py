"""Commands from the control centre (and from field devices) to the grid.

A :class:`Command` is what an automation function sends: one target quantity
(``switch_closed``, ``trafo_tap_pos``, ...), the positions it addresses and
their new values. It names only what it changes, so it never undoes what
happened to the other devices since it was issued (a protection trip, an
operator's switching). Commands travel through the command channel
(:mod:`gridtwin.simulators.channel`), which delays or drops them; the grid
applies those that arrive with :func:`apply_commands`.

Positions, not pandapower index labels, address elements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from gridtwin.grid.state import GridState, SwitchCommand

__all__ = [
    "COMMAND_TARGETS",
    "Command",
    "CommandStatus",
    "Target",
    "apply_commands",
    "from_switch_command",
]


class Target(StrEnum):
    """The quantities a command can set, with their units."""

    SWITCH_CLOSED = "switch_closed"  # bool
    LINE_IN_SERVICE = "line_in_service"  # bool (nets switched by whole lines)
    TRAFO_TAP_POS = "trafo_tap_pos"  # int tap position
    SGEN_Q_SET_MVAR = "sgen_q_set_mvar"  # [MVAr]; NaN = the profile's value
    SGEN_P_LIMIT_MW = "sgen_p_limit_mw"  # [MW]; inf = no limit
    STORAGE_P_SET_MW = "storage_p_set_mw"  # [MW], charging positive


COMMAND_TARGETS: dict[Target, tuple[str, str]] = {
    Target.SWITCH_CLOSED: ("switch", "switch_closed"),
    Target.LINE_IN_SERVICE: ("line", "line_in_service"),
    Target.TRAFO_TAP_POS: ("trafo", "trafo_tap_pos"),
    Target.SGEN_Q_SET_MVAR: ("sgen", "sgen_q_set_mvar"),
    Target.SGEN_P_LIMIT_MW: ("sgen", "sgen_p_limit_mw"),
    Target.STORAGE_P_SET_MW: ("storage", "storage_p_set_mw"),
}
"""Per target: the pandapower table it addresses and the :class:`GridState` field it sets."""


class CommandStatus(StrEnum):
    """What became of a command."""

    APPLIED = "applied"  # arrived and changed the grid
    NO_CHANGE = "no_change"  # arrived; the devices were already there
    DROPPED_COMMS = "dropped_comms"  # dropped during a comms_loss
    LOST = "lost"  # lost on the channel (the scenario's loss probability)
    LATE = "late"  # would have arrived after the end of the run


@dataclass(frozen=True, slots=True)
class Command:
    """One order: set ``target`` of the elements at ``positions`` to ``values``.

    Attributes
    ----------
    source : str
        The function that sent it (its name in the scenario).
    issued_s : int
        Simulation time it was sent [s].
    target : Target
        The quantity it sets.
    positions : ndarray of int
        Positions in the target's pandapower table.
    values : ndarray of float
        New values (bool and int targets as 0/1 and whole numbers).
    local : bool
        A field device's own loop (OLTC relay, inverter curve): it does not
        cross the control centre's telecontrol link, so ``comms_loss`` and the
        channel's latency and loss do not apply; it still acts one step later.
    command_id : int
        Numbered by the command channel in the order it received them (-1 before);
        recorded to join issue and arrival.
    """

    source: str
    issued_s: int
    target: Target
    positions: np.ndarray
    values: np.ndarray
    local: bool = False
    command_id: int = -1

    @property
    def n_elements(self) -> int:
        """Elements the command addresses."""
        return len(self.positions)


def apply_commands(state: GridState, commands: Sequence[Command]) -> tuple[list[bool], int]:
    """Apply arrived commands to ``state`` in order.

    Returns
    -------
    took_effect : list of bool
        Per command: whether it changed any value.
    switch_operations : int
        Switches and lines whose position changed.
    """
    effects: list[bool] = []
    operations = 0
    for command in commands:
        _, name = COMMAND_TARGETS[command.target]
        current = getattr(state, name)
        new = command.values.astype(current.dtype)
        old = current[command.positions]
        same = old == new
        if old.dtype.kind == "f":
            same |= np.isnan(old) & np.isnan(new)
        changed = ~same
        current[command.positions] = new
        effects.append(bool(changed.any()))
        if command.target in (Target.SWITCH_CLOSED, Target.LINE_IN_SERVICE):
            operations += int(changed.sum())
    return effects, operations


def from_switch_command(source: str, issued_s: int, order: SwitchCommand | None) -> list[Command]:
    """The commands of a :class:`SwitchCommand` (switch and line orders), none for None."""
    if order is None:
        return []
    out = []
    if len(order.switch_pos):
        out.append(
            Command(
                source,
                issued_s,
                Target.SWITCH_CLOSED,
                order.switch_pos,
                order.switch_closed.astype(float),
            )
        )
    if len(order.line_pos):
        out.append(
            Command(
                source,
                issued_s,
                Target.LINE_IN_SERVICE,
                order.line_pos,
                order.line_in_service.astype(float),
            )
        )
    return out
