"""The ``commands`` section: the command channel between the control centre and the grid."""

from __future__ import annotations

from pydantic import Field

from gridtwin.scenario.base import DurationS, Section, Seed

__all__ = ["CommandsSpec"]


class CommandsSpec(Section):
    """The command channel between the control centre and the grid."""

    latency: DurationS = Field(
        default=0, description="telecontrol latency; commands act one step later at the earliest"
    )
    loss_probability: float = Field(
        default=0.0, ge=0, le=1, description="chance that a telecontrol command is lost [-]"
    )
    seed: Seed | None = Field(default=None, description="default: the scenario's seed")
