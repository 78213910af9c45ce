"""Sections of the control-centre link: the command channel, SCADA and meters, user functions."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from gridtwin.scenario.base import DurationS, Section, Seed

__all__ = ["CommandsSpec", "FunctionSpec", "ScadaSpec"]


class CommandsSpec(Section):
    """The command channel between the control centre and the grid."""

    latency: DurationS = Field(
        default=0, description="telecontrol latency; commands act one step later at the earliest"
    )
    loss_probability: float = Field(
        default=0.0, ge=0, le=1, description="chance that a telecontrol command is lost [-]"
    )
    seed: Seed | None = Field(default=None, description="default: the scenario's seed")


class ScadaSpec(Section):
    """SCADA and metering: what the control centre is told beside the measurement frames."""

    meter_accuracy: float = Field(
        default=0.01,
        ge=0,
        lt=1,
        description="3-sigma relative accuracy of metered load and DER powers [-]",
    )
    seed: Seed | None = Field(default=None, description="default: the scenario's seed")


class FunctionSpec(Section):
    """A user's automation function: ``use`` names its class; ``params`` its parameters."""

    use: str = Field(
        pattern=r"^[^:]+:[A-Za-z_][A-Za-z0-9_]*$",
        description="module:Class or path/to/file.py:Class (relative to the scenario file)",
    )
    name: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.-]+$", description="default: the class name"
    )
    params: dict[str, Any] = Field(default_factory=dict)
