"""The physical grid without mosaik: delivered commands and the static twin.

::

    profiles, events, delivered commands, controls ──► PhysicalGrid ──► PowerFlowResult

Latency, loss and ``comms_loss`` are the command channel's
(``tests/test_command_channel.py``); the grid applies what arrives.
"""

from __future__ import annotations

import numpy as np

from gridtwin.grid.commands import Command, Target
from gridtwin.grid.factory import make_engine
from gridtwin.grid.physical import PhysicalGrid
from gridtwin.grid.sources import load_net
from gridtwin.scenario import GridSpec


def _open_line(issued_s: int, line: int) -> Command:
    return Command("test", issued_s, Target.LINE_IN_SERVICE, np.array([line]), np.array([0.0]))


def test_delivered_commands_apply_and_static_twin_keeps_start_configuration():
    net = load_net(GridSpec(pandapower="case33bw"))
    grid = PhysicalGrid(
        net, make_engine("power-grid-model", net), make_engine("power-grid-model", net)
    )
    no_controls: dict[str, np.ndarray] = {}
    r0 = grid.finish_step(0, [], no_controls)
    assert r0.converged and grid.command_operations == 0 and grid.command_effects == []
    assert grid.static_losses_mw == r0.losses_mw
    # a command delivered at 900 s opens line 5; the static twin stays as it started
    grid.start_step({})
    r = grid.finish_step(900, [], no_controls, [_open_line(0, 5)])
    assert grid.command_operations == 1 and grid.command_effects == [True]
    assert not grid.state.line_in_service[5]
    assert (
        r.line_i_from_ka[5] == 0.0
    )  # no current (case33bw lines have no real rating: loading n/a)
    assert grid.static_losses_mw == r0.losses_mw != r.losses_mw
    # the same order again changes nothing (it is recorded no_change)
    grid.start_step({})
    grid.finish_step(1800, [], no_controls, [_open_line(900, 5)])
    assert grid.command_operations == 0 and grid.command_effects == [False]
