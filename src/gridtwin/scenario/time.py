"""The ``time`` section: start, duration, step, real-time factor."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from gridtwin.scenario.base import DurationS, Instant, Section
from gridtwin.timeparse import format_duration

__all__ = [
    "TimeSpec",
]


class TimeSpec(Section):
    """When the run starts, how long it lasts and its step."""

    start: Instant = Field(description="ISO 8601 start with UTC offset")
    duration: DurationS = Field(description="length of the run, e.g. 1d or 365d")
    step: DurationS = Field(default=900, description="simulation step, e.g. 15min")
    real_time_factor: float | None = Field(
        default=None, gt=0, description="run in wall-clock time: 1.0 = real time, 0.1 = 10x faster"
    )

    @field_validator("step")
    @classmethod
    def _step_positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("expected a step longer than zero, e.g. 15min")
        return value

    @model_validator(mode="after")
    def _duration_multiple_of_step(self) -> TimeSpec:
        if self.duration <= 0:
            raise ValueError("duration: expected a duration longer than zero, e.g. 1d")
        if self.duration % self.step:
            raise ValueError(
                f"duration: {format_duration(self.duration)} is not a whole number of "
                f"steps of {format_duration(self.step)}; expected a multiple of time.step"
            )
        return self

    @property
    def n_steps(self) -> int:
        """Number of simulation steps."""
        return self.duration // self.step
