"""The ``reconfiguration`` section: the switch-reconfiguration controller."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from gridtwin.scenario.base import MAX_WAIT_S, DurationS, Section, Seed
from gridtwin.timeparse import format_duration

__all__ = [
    "ReconfigurationSpec",
]


class ReconfigurationSpec(Section):
    """The switch-reconfiguration controller under test.

    Every ``every`` (and on each ``reconfigure`` event) it plans the next
    ``horizon`` in periods of ``period`` from the metered loads it has seen and
    commands the switches; the grid applies a command one step later.
    ``objective`` picks preset prices (``losses``, ``reliability`` or
    ``weighted``); the price fields override them. The search stops after
    ``max_evaluations`` configuration-period evaluations (machine-independent,
    so a run is reproducible) or, if set, after ``time_limit_s`` of wall time.
    """

    every: DurationS | None = Field(
        default=21600, description="planning interval, e.g. 6h; null: only on reconfigure events"
    )
    horizon: DurationS = Field(default=86400, description="planning horizon, e.g. 24h")
    period: DurationS = Field(default=3600, description="length of one planning period, e.g. 1h")
    forecast: Literal["previous_day", "hold"] = Field(
        default="previous_day",
        description="loads per period: the same hours of the previous day, or the last values",
    )
    objective: Literal["losses", "reliability", "weighted"] = "weighted"
    loss_cost_per_mwh: float | None = Field(default=None, ge=0, description="[EUR/MWh]")
    reliability: float | None = Field(default=None, ge=0, description="factor on EENS cost [-]")
    switching_cost: float | None = Field(default=None, ge=0, description="[EUR/operation]")
    violation_cost_per_percent_h: float | None = Field(
        default=None, ge=0, description="[EUR/(%·h)]"
    )
    max_evaluations: int = Field(default=3000, gt=0, description="search budget per plan")
    time_limit_s: float | None = Field(
        default=None, gt=0, le=MAX_WAIT_S, description="wall-clock cap [s]"
    )
    all_lines_switchable: bool = Field(
        default=False, description="every line is switchable (nets without switch tables)"
    )
    vm_min_pu: float | None = Field(default=None, gt=0, lt=2, description="[pu]")
    vm_max_pu: float | None = Field(default=None, gt=0, lt=2, description="[pu]")
    max_loading_percent: float | None = Field(default=None, gt=0, description="[%]")
    seed: Seed | None = Field(default=None, description="search seed; default: scenario's")
    hold_check: bool = Field(
        default=True,
        description="carry a plan out only if it beats holding on two forecasts by the cost "
        "of switching there and back (false: every plan that beats holding on the forecast)",
    )

    @field_validator("every", "horizon", "period")
    @classmethod
    def _positive(cls, value: int | None) -> int | None:
        if value is not None and value <= 0:
            raise ValueError("expected a duration longer than zero, e.g. 6h")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ReconfigurationSpec:
        if self.horizon % self.period:
            raise ValueError(
                f"horizon: {format_duration(self.horizon)} is not a whole number of periods "
                f"of {format_duration(self.period)}; expected a multiple of period"
            )
        if self.horizon > 7 * 86400:
            raise ValueError(f"horizon: got {format_duration(self.horizon)}; expected 7d or less")
        if (
            self.vm_min_pu is not None
            and self.vm_max_pu is not None
            and self.vm_min_pu >= self.vm_max_pu
        ):
            raise ValueError(
                f"vm_max_pu: got {self.vm_max_pu}; expected more than vm_min_pu ({self.vm_min_pu})"
            )
        return self

    def weight_overrides(self) -> dict[str, float]:
        """The price fields that are set, by their ``Weights`` names."""
        names = (
            "loss_cost_per_mwh",
            "reliability",
            "switching_cost",
            "violation_cost_per_percent_h",
        )
        return {n: float(getattr(self, n)) for n in names if getattr(self, n) is not None}
