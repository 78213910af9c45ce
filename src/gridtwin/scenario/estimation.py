"""The ``estimation`` section: the state estimator under test."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gridtwin.scenario.base import Section

__all__ = [
    "EstimationSpec",
]


class EstimationSpec(Section):
    """The state estimator under test."""

    engine: Literal["power-grid-model", "pandapower"] = "power-grid-model"
    chi2_confidence: float = Field(default=0.95, gt=0, lt=1, description="chi-square test level")
    lnr_threshold: float = Field(default=3.0, gt=0, description="normalized residual limit")
    max_bad_data_removals: int = Field(default=5, ge=0, description="removals per step")
