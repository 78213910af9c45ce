"""The forecaster's recorded ``forecast`` table (element = target), one declaration.

Per step: each cadence's quantiles in effect for the step, the seasonal
naive forecast, the true actual (the testbed's truth aggregated per target,
the forecaster's actual without it) and the metered value the forecaster
was given [MW].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gridtwin.recording.tables import F8, Column, StepTable, attr

__all__ = ["CADENCES", "forecast_table"]

CADENCES = ("intraday", "day_ahead")
"""The forecast cadences, in the table's column order."""

Aggregate = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _quantile(cadence: str, i: int) -> Callable[[Any], Any]:
    return lambda inputs: inputs["forecast"].current[cadence][i]


def _actual(aggregate: Aggregate | None) -> Callable[[Any], Any]:
    def get(inputs: Any) -> Any:
        result = inputs["result"]
        if result is None or aggregate is None:
            return inputs["forecast"].actual_mw
        return np.asarray(aggregate(result.load_p_mw, result.sgen_p_mw), dtype=float)

    return get


def forecast_table(quantiles: Sequence[float], aggregate: Aggregate | None) -> StepTable:
    """The ``forecast`` table for ``quantiles``; ``aggregate(load_p_mw, sgen_p_mw)`` gives
    the true actual per target from the power flow (None: the forecaster's actual)."""
    names = [f"p{round(100 * q):02d}" for q in quantiles]
    columns = {
        f"{cadence}_{name}_mw": Column(F8, _quantile(cadence, i))
        for cadence in CADENCES
        for i, name in enumerate(names)
    }
    columns["seasonal_naive_mw"] = Column(F8, attr("forecast", "seasonal_naive_mw"))
    columns["actual_mw"] = Column(F8, _actual(aggregate))
    columns["metered_mw"] = Column(F8, attr("forecast", "actual_mw"))
    return StepTable("forecast", columns, ("forecast",))
