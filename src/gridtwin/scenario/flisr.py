"""The ``flisr`` section: fault location, isolation and service restoration."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gridtwin.scenario.base import DurationS, Section

__all__ = [
    "FlisrSpec",
]


class FlisrSpec(Section):
    """The FLISR automation function (fault location, isolation, service restoration).

    It sees breaker positions, status indications and the fault passage
    indicators at the switches; each switching takes ``remote_time`` on a
    remote-controlled switch, ``manual_time`` when a crew drives out.
    """

    remote: Literal["all", "breakers", "none"] = Field(
        default="all", description="which switches are remote-controlled"
    )
    remote_time: DurationS = Field(default=30, description="operation time of a remote switching")
    manual_time: DurationS = Field(default=3600, description="operation time of a manual one")
    confirm: DurationS = Field(
        default=0, description="a breaker counts as tripped once seen open this long"
    )
    indicators: Literal["all"] | list[str | int] = Field(
        default="all",
        description="switches with a fault passage indicator (names or indices); "
        "breakers always report",
    )
    vm_min_pu: float = Field(default=0.9, gt=0, lt=2, description="restoration voltage band [pu]")
    vm_max_pu: float = Field(default=1.1, gt=0, lt=2, description="[pu]")
    max_loading_percent: float = Field(default=100.0, gt=0, description="[%]")

    @model_validator(mode="after")
    def _band(self) -> FlisrSpec:
        if self.vm_min_pu >= self.vm_max_pu:
            raise ValueError(
                f"vm_max_pu: got {self.vm_max_pu}; expected more than vm_min_pu ({self.vm_min_pu})"
            )
        return self
