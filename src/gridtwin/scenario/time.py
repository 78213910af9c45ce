"""The ``time`` section: start, duration, step, real-time factor."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field, field_validator, model_validator

from gridtwin.scenario.base import DurationS, Instant, RunDurationS, Section
from gridtwin.scenario.limits import DEFAULT_MAX_STEPS
from gridtwin.timeparse import format_duration

__all__ = [
    "LAST_INSTANT",
    "TimeSpec",
]

FIRST_INSTANT = datetime(1678, 1, 1, tzinfo=UTC)
LAST_INSTANT = datetime(2262, 1, 1, tzinfo=UTC)
"""A run lies in [1678, 2262): the range of the nanosecond time stamps of pandas and Parquet."""


class TimeSpec(Section):
    """When the run starts, how long it lasts and its step."""

    start: Instant = Field(description="ISO 8601 start with UTC offset")
    duration: RunDurationS = Field(description="length of the run, e.g. 1d or 365d")
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
        if not FIRST_INSTANT <= self.start < LAST_INSTANT:
            raise ValueError("start: expected a time between 1678 and 2262 (Parquet time stamps)")
        if self.duration > (LAST_INSTANT - self.start).total_seconds():
            raise ValueError(
                f"duration: {format_duration(self.duration)} at {format_duration(self.step)} is "
                f"{self.n_steps:,} steps and would end after {LAST_INSTANT:%Y} (the last Parquet "
                f"time stamp); expected a run that ends before {LAST_INSTANT:%Y} (and, unless "
                f"forced, at most limits.max_steps = {DEFAULT_MAX_STEPS:,} steps by default)"
            )
        return self

    @property
    def n_steps(self) -> int:
        """Number of simulation steps."""
        return self.duration // self.step
