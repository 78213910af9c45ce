"""The ``profiles`` section: load, generation and storage profiles."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from gridtwin.scenario.base import Section

__all__ = [
    "Interpolation",
    "ProfileFileSpec",
    "ProfilesSpec",
]


class Interpolation(StrEnum):
    """How a profile is brought to the scenario's step.

    ``hold`` keeps each profile value for its interval, ``linear`` interpolates
    between profile points, ``mean`` averages the profile over each step.
    """

    HOLD = "hold"
    LINEAR = "linear"
    MEAN = "mean"


class ProfileFileSpec(Section):
    """One CSV profile file: a ``time`` column and one column per element."""

    path: str
    element: Literal["load", "sgen", "storage"]
    quantity: Literal["p_mw", "q_mvar", "scaling"] = Field(
        description="p_mw [MW], q_mvar [MVAr] or scaling [pu] of the element's rated values"
    )


class ProfilesSpec(Section):
    """Load, generation and storage profiles."""

    source: Literal["simbench", "csv", "none"] | None = Field(
        default=None, description="default: simbench for SimBench grids, else none"
    )
    files: list[ProfileFileSpec] = Field(default_factory=list)
    interpolation: Interpolation = Interpolation.HOLD
    load_scale: float = Field(default=1.0, ge=0, description="factor on every load [-]")
    sgen_scale: float = Field(default=1.0, ge=0, description="factor on every sgen [-]")

    @model_validator(mode="after")
    def _files_only_for_csv(self) -> ProfilesSpec:
        if self.source == "csv" and not self.files:
            raise ValueError("files: expected at least one CSV file when source is csv")
        if self.files and self.source not in ("csv", None):
            raise ValueError(f"files: given, but source is {self.source}; expected source: csv")
        if self.files:
            self.source = "csv"
        return self
