"""The reconfiguration's per-step ``reconfig`` table (element ``reconfig``).

Losses with the controller and in the starting configuration (the testbed's
static twin), and the switch operations its commands made this step. Plans
go to the free-form ``reconfig_plans`` rows.
"""

from __future__ import annotations

import numpy as np

from gridtwin.recording.tables import F8, I8, Column, StepTable, attr, given

__all__ = ["RECONFIG_TABLE"]

RECONFIG_TABLE = StepTable(
    "reconfig",
    {
        "losses_mw": Column(F8, attr("result", "losses_mw")),
        "losses_static_mw": Column(F8, given("static_losses_mw", np.nan)),
        "operations": Column(I8, given("command_operations", 0)),
    },
    ("result",),
)
