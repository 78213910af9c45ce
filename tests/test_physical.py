"""The physical grid without mosaik: commands, comms loss and the static twin.

::

    profiles, events, switch commands, controls ──► PhysicalGrid ──► PowerFlowResult
"""

from __future__ import annotations

import numpy as np

from gridtwin.events import ScheduledEvent
from gridtwin.grid.factory import make_engine
from gridtwin.grid.physical import PhysicalGrid
from gridtwin.grid.sources import load_net
from gridtwin.grid.state import SwitchCommand
from gridtwin.scenario import GridSpec


def _open_line(at_s: int, line: int) -> SwitchCommand:
    return SwitchCommand(
        at_s=at_s,
        switch_pos=np.zeros(0, dtype=np.int64),
        switch_closed=np.zeros(0, dtype=bool),
        line_pos=np.array([line]),
        line_in_service=np.array([False]),
    )


def _comms(at_s: int, kind: str) -> ScheduledEvent:
    return ScheduledEvent(at_s, 0, kind, "all", ())


def test_comms_loss_drops_commands_and_static_twin_keeps_start_configuration():
    net = load_net(GridSpec(pandapower="case33bw"))
    grid = PhysicalGrid(
        net, make_engine("power-grid-model", net), make_engine("power-grid-model", net)
    )
    no_controls: dict[str, np.ndarray] = {}
    r0 = grid.finish_step(0, [], [], no_controls)
    assert r0.converged and grid.command_operations == 0
    assert grid.static_losses_mw == r0.losses_mw
    # comms lost at 900 s: the command of that step is dropped
    grid.start_step({})
    grid.finish_step(900, [_comms(900, "comms_loss")], [_open_line(900, 5)], no_controls)
    assert grid.comms_lost and grid.command_operations == 0
    assert grid.state.line_in_service[5]
    # restored at 1800 s: the command applies; the static twin stays as it started
    grid.start_step({})
    r = grid.finish_step(1800, [_comms(1800, "comms_restore")], [_open_line(1800, 5)], no_controls)
    assert not grid.comms_lost and grid.command_operations == 1
    assert not grid.state.line_in_service[5]
    assert (
        r.line_i_from_ka[5] == 0.0
    )  # no current (case33bw lines have no real rating: loading n/a)
    assert grid.static_losses_mw == r0.losses_mw != r.losses_mw
    # a command meant for another time is not applied
    grid.start_step({})
    grid.finish_step(2700, [], [_open_line(3600, 6)], no_controls)
    assert grid.command_operations == 0 and grid.state.line_in_service[6]
