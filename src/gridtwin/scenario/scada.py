"""The ``scada`` section: what the control centre is told beside the measurement frames."""

from __future__ import annotations

from pydantic import Field

from gridtwin.scenario.base import Section, Seed

__all__ = ["ScadaSpec"]


class ScadaSpec(Section):
    """SCADA and metering: what the control centre is told beside the measurement frames."""

    meter_accuracy: float = Field(
        default=0.01,
        ge=0,
        lt=1,
        description="3-sigma relative accuracy of metered load and DER powers [-]",
    )
    seed: Seed | None = Field(default=None, description="default: the scenario's seed")
