"""An automation function of your own: DER export limiting at the substation.

This whole file is the function. gridtwin loads it from a scenario entry::

    functions:
      - use: ../examples/peak_shaving.py:PeakShaving
        params: {export_limit_mw: 4.0}

Every step it reads what a control centre sees, the metered load and DER
power and each unit's available power (DER telemetry), estimates the export
to the upstream grid (generation minus load; losses are left out) and, when
it exceeds ``export_limit_mw``, sends active-power limits that curtail every
unit by the same share of its available power. When the export falls below
the limit by ``release_margin_mw`` it lifts the limits again. Its commands go
through gridtwin's command channel and act one step later.

It records its estimate each step (``Output``: the table ``peak_shaving`` of
the run, and the InfluxDB measurement of that name) and reports two KPIs with
a summary row each (``kpis()``, ``summary``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from gridtwin.controllers.function import AutomationFunction, Row
from gridtwin.grid.commands import Command


class PeakShavingParams(BaseModel):
    """Parameters of :class:`PeakShaving`."""

    model_config = ConfigDict(extra="forbid")
    export_limit_mw: float = Field(gt=0, description="largest export to the upstream grid [MW]")
    release_margin_mw: float = Field(
        default=0.2, ge=0, description="lift the limits below limit - margin [MW]"
    )


@dataclass
class PeakShavingOutput:
    """What :class:`PeakShaving` records each step."""

    export_estimate_mw: float  # available DER power minus metered load [MW]
    limit_active: bool  # limits in force after this step


class PeakShaving(AutomationFunction):
    """Curtail DER in proportion to availability so that the export stays below a limit."""

    reads = ("metered_load_p_mw", "metered_sgen_p_mw", "der_available_p_mw")
    Params = PeakShavingParams
    Output = PeakShavingOutput
    summary = (
        Row("steps with limits in force", "limited_steps", "steps"),
        Row("highest estimated export", "export_estimate_max_mw", "MW", 3),
    )

    def __init__(self, params: Any, context: Any) -> None:
        super().__init__(params, context)
        self.limited = False
        self.limited_steps = 0
        self.export_max_mw = float("nan")

    def kpis(self) -> dict[str, float | int | bool]:
        return {"limited_steps": self.limited_steps, "export_estimate_max_mw": self.export_max_mw}

    def step(self, time_s: int, view: dict[str, Any]) -> list[Command]:
        if "der_available_p_mw" not in view or "metered_load_p_mw" not in view:
            return []
        load_mw = float(np.nansum(view["metered_load_p_mw"]))
        available = np.asarray(view["der_available_p_mw"], dtype=float)
        available_mw = float(available.sum())
        commands = self._decide(time_s, view, load_mw, available)
        self.output = PeakShavingOutput(available_mw - load_mw, self.limited)
        self.limited_steps += int(self.limited)
        self.export_max_mw = float(np.nanmax([self.export_max_mw, available_mw - load_mw]))
        return commands

    def _decide(
        self, time_s: int, view: dict[str, Any], load_mw: float, available: np.ndarray
    ) -> list[Command]:
        available_mw = float(available.sum())
        limit = self.params.export_limit_mw
        if available_mw - load_mw > limit and available_mw > 0:
            share = max(0.0, (limit + load_mw) / available_mw)
            self.limited = True
            return [self._limits(time_s, available * share)]
        export_mw = float(np.nansum(view["metered_sgen_p_mw"])) - load_mw
        if self.limited and export_mw < limit - self.params.release_margin_mw:
            if available_mw - load_mw < limit - self.params.release_margin_mw:
                self.limited = False
                return [self._limits(time_s, np.full(len(available), np.inf))]
        return []

    def _limits(self, time_s: int, p_limit_mw: np.ndarray) -> Command:
        positions = np.arange(len(p_limit_mw))
        return self.command(time_s, "sgen_p_limit_mw", positions, p_limit_mw)
