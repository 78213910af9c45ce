"""A user's automation function that is slow on purpose, for the real-time tests.

``SlowAt`` sleeps ``sleep_s`` of wall time in its steps at ``at_s`` (simulated
seconds) and appends every simulated time it was called at to the text file
``log``, so a test can tell which steps it really ran. It reads nothing and
commands nothing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gridtwin.controllers.function import AutomationFunction
from gridtwin.grid.commands import Command


class SlowAtParams(BaseModel):
    """Parameters of :class:`SlowAt`."""

    model_config = ConfigDict(extra="forbid")
    sleep_s: float = Field(gt=0, description="wall time slept in a slow step [s]")
    at_s: list[int] = Field(description="simulated times of the slow steps [s]")
    log: str = Field(description="text file: one line per step called, its time [s]")


class SlowAt(AutomationFunction):
    """Sleeps in the steps at ``at_s``; logs every step it runs."""

    reads = ()
    Params = SlowAtParams

    def step(self, time_s: int, view: dict[str, Any]) -> list[Command]:
        with Path(self.params.log).open("a", encoding="utf-8") as f:
            f.write(f"{time_s}\n")
        if time_s in self.params.at_s:
            time.sleep(self.params.sleep_s)
        return []
