"""Request bodies of the service (pydantic models: unknown keys are refused)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PowerFlowIn", "SessionIn", "WeightsIn"]

Periods = str | list[dict[str, Any]]
PERIODS_HELP = (
    "Demand per period: the periods CSV that `gridtwin reconfigure --periods` reads "
    '(a string), or the same as JSON rows, e.g. [{"time": "...", "Load 3 [MW]": 0.06}]; '
    "default one hour at the network's own powers."
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WeightsIn(_Strict):
    """Prices over the objective's presets."""

    losses: float | None = Field(default=None, ge=0, description="EUR/MWh of losses")
    reliability: float | None = Field(
        default=None, ge=0, description="factor on the expected interruption (KILE/ENS) cost"
    )
    switching: float | None = Field(default=None, ge=0, description="EUR per switching")
    violations: float | None = Field(default=None, ge=0, description="EUR per %·h of violation")

    def given(self) -> dict[str, float]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class SessionIn(_Strict):
    """A new optimization session on a network."""

    network_id: str
    periods: Periods | None = Field(default=None, description=PERIODS_HELP)
    objective: Literal["losses", "reliability", "weighted"] = "weighted"
    weights: WeightsIn = Field(default_factory=WeightsIn)
    max_evaluations: int = Field(
        default=2000, ge=1, le=100_000_000, description="configuration-period evaluations"
    )
    seed: int = Field(default=0, ge=0, le=2**32 - 1)


class PowerFlowIn(_Strict):
    """A configuration (lines open) and, optionally, periods."""

    open_lines: list[int] = Field(default_factory=list, description="pandapower line indices")
    periods: Periods | None = Field(default=None, description=PERIODS_HELP)
