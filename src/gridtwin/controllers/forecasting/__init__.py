"""Load and PV forecasting: point and probabilistic forecasts (pure; no mosaik).

Example
-------
>>> from gridtwin.controllers.forecasting import ForecastConfig, Forecaster, target_set
>>> targets = target_set(net, "feeder")                      # doctest: +SKIP
>>> f = Forecaster(targets, history_mw, start_s=..., step_s=900, n_steps=96,
...                utc_offset_s=3600, config=ForecastConfig(latitude_deg=51.0,
...                longitude_deg=10.0))                       # doctest: +SKIP
>>> out = f.step(0, actual_mw)   # forecasts in effect now, pseudo-measurements, scores
"""

from gridtwin.controllers.forecasting.features import TargetSet, feeder_of_bus, target_set
from gridtwin.controllers.forecasting.forecaster import (
    Completed,
    ForecastConfig,
    Forecaster,
    ForecastStep,
    Issue,
    PseudoForecast,
    element_shares,
    warmup_steps,
)
from gridtwin.controllers.forecasting.models import ModelKind

__all__ = [
    "Completed",
    "ForecastConfig",
    "ForecastStep",
    "Forecaster",
    "Issue",
    "ModelKind",
    "PseudoForecast",
    "TargetSet",
    "element_shares",
    "feeder_of_bus",
    "target_set",
    "warmup_steps",
]
