"""The ``grid`` section: where the network comes from and the power-flow engine."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from gridtwin.scenario.base import Section

__all__ = [
    "Engine",
    "GridSpec",
]


class Engine(StrEnum):
    """Power-flow engine: power-grid-model (default, fast) or pandapower (reference)."""

    POWER_GRID_MODEL = "power-grid-model"
    PANDAPOWER = "pandapower"


class GridSpec(Section):
    """Where the network comes from: one of ``simbench``, ``pandapower``, ``file``, ``cgmes``."""

    simbench: str | None = Field(default=None, description="SimBench code")
    pandapower: str | None = Field(default=None, description="pandapower.networks function")
    file: str | None = Field(default=None, description="pandapower JSON file")
    cgmes: str | None = Field(default=None, description="CGMES zip (EQ, SSH, TP, SV)")
    options: dict[str, Any] = Field(
        default_factory=dict, description="keyword arguments of the pandapower network function"
    )
    engine: Engine = Engine.POWER_GRID_MODEL

    @model_validator(mode="after")
    def _exactly_one_source(self) -> GridSpec:
        given = [k for k in ("simbench", "pandapower", "file", "cgmes") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                f"got {', '.join(given) or 'no source'}; expected exactly one of "
                "simbench, pandapower, file, cgmes"
            )
        if self.options and not self.pandapower:
            raise ValueError("options: only a pandapower network function takes options")
        return self
