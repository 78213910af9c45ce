"""The ``forecasting`` section: the load and PV forecaster under test."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gridtwin.scenario.base import DurationS, Section, Seed
from gridtwin.timeparse import format_duration

__all__ = [
    "DayAheadSpec",
    "ForecastingSpec",
    "IntradaySpec",
]


class IntradaySpec(Section):
    """Intraday forecasts: issued every ``every``, for the next ``horizon``."""

    every: DurationS = Field(default=3600, description="issue interval, e.g. 1h or 15min")
    horizon: DurationS = Field(default=14400, description="forecast horizon, e.g. 4h (24h at most)")


class DayAheadSpec(Section):
    """Day-ahead forecasts: issued once a day at local time ``at``, for the whole next day."""

    at: DurationS = Field(default=43200, description="local time of day of the issue, e.g. 12h")


class ForecastingSpec(Section):
    """The load and PV forecaster under test.

    It forecasts loads, PV and other generators at ``level`` (``element``,
    ``bus``, ``feeder`` or ``grid``) from the history up to now: the profiles
    of the ``training_window`` before ``time.start`` (for SimBench grids the
    window must lie inside SimBench's year 2016, with 29 days more for the
    lag features), then the run's own actuals. PV needs the site
    (``latitude``, ``longitude``) for the clear-sky model. When the scenario
    also has pseudo-measurements, their mean and sigma come from the forecast
    (``feed_estimator``).
    """

    model: Literal["persistence", "seasonal_naive", "quantile_gbm"] = "quantile_gbm"
    level: Literal["element", "bus", "feeder", "grid"] = "feeder"
    quantiles: list[float] = Field(
        default_factory=lambda: [0.1, 0.5, 0.9], description="ascending, with 0.5"
    )
    intraday: IntradaySpec | None = Field(default_factory=IntradaySpec)
    day_ahead: DayAheadSpec | None = Field(default_factory=DayAheadSpec)
    training_window: DurationS = Field(default=56 * 86400, description="history for training")
    retrain_every: DurationS = Field(default=7 * 86400, description="at least 1d")
    latitude: float | None = Field(default=None, ge=-90, le=90, description="PV site [degree N]")
    longitude: float | None = Field(default=None, ge=-180, le=180, description="[degree E]")
    seed: Seed | None = Field(default=None, description="model seed; default: scenario's")
    feed_estimator: bool = Field(default=True, description="pseudo-measurements from forecasts")

    @model_validator(mode="after")
    def _consistent(self) -> ForecastingSpec:
        q = self.quantiles
        if len(q) < 3 or 0.5 not in q or any(not 0 < v < 1 for v in q) or q != sorted(set(q)):
            raise ValueError(
                f"quantiles: got {q}; expected at least three ascending levels in (0, 1) "
                "with 0.5, e.g. [0.1, 0.5, 0.9]"
            )
        if self.intraday is None and self.day_ahead is None:
            raise ValueError("intraday: both cadences are off; expected intraday or day_ahead")
        if self.intraday is not None:
            if not 0 < self.intraday.every <= self.intraday.horizon <= 86400:
                raise ValueError(
                    "intraday: expected 0 < every <= horizon <= 24h, e.g. {every: 1h, horizon: 4h}"
                )
        if self.day_ahead is not None and not 0 <= self.day_ahead.at < 86400:
            raise ValueError("day_ahead.at: expected a time of day in [0, 24h), e.g. 12h")
        if self.retrain_every < 86400:
            raise ValueError(
                f"retrain_every: got {format_duration(self.retrain_every)}; expected 1d or more"
            )
        if self.training_window < 21 * 86400:
            raise ValueError(
                f"training_window: got {format_duration(self.training_window)}; expected 21d "
                "or more (the last 14 days calibrate the learned model)"
            )
        return self
