"""The forecaster's recorded ``forecast`` table (element = target), one declaration.

Per step: each cadence's quantiles in effect for the step, the seasonal
naive forecast, the true actual (the testbed's truth aggregated per target,
the forecaster's actual without it) and the metered value the forecaster
was given [MW].

The free-form ``forecast_issues`` rows (:func:`issue_columns`, written as the
forecast KPIs score an issue) keep every completed issue they scored: one row per
issue, lead and target, so that ``gridtwin kpis`` recomputes the section.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gridtwin.recording.tables import F8, Column, StepTable, attr

__all__ = ["CADENCES", "ISSUES", "forecast_table", "issue_columns", "quantile_names"]

ISSUES = "forecast_issues"
"""The free-form table of the completed issues."""

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


def quantile_names(quantiles: Sequence[float]) -> list[str]:
    """Column stems of the quantiles: ``p10``, ``p50``, ..."""
    return [f"p{round(100 * q):02d}" for q in quantiles]


def issue_columns(
    first: int,
    known: int,
    completed: list[Any],
    names: Sequence[str],
    groups: Sequence[str],
    quantiles: Sequence[float],
    n_hist: int,
    step_s: int,
    start_s: int,
) -> dict[str, np.ndarray]:
    """The ``forecast_issues`` columns of ``completed`` issues, numbered from ``first``.

    ``known`` is the last run step whose truth was known when they were
    scored (-1: none). Per issue (``issue``: its number in the order it was
    scored), lead and target (``element``, its ``group``): ``sim_time_s``
    when it was issued (its last known step) [s], ``scored_s`` ``known`` as
    time [s], ``cadence``,
    ``step`` the run step forecast (negative: before the run), ``daylight``,
    each quantile ``pNN_mw``, ``seasonal_naive_mw``, ``persistence_mw`` and
    the forecaster's ``actual_mw`` [MW], in lead-major order. ``start_s``:
    the epoch of the run's start [s] (``time`` is ``start_s + sim_time_s``).
    """
    stems = quantile_names(quantiles)
    scored_s = int(known) * step_s

    def one(k: int, c: Any) -> dict[str, np.ndarray]:
        """One completed issue's columns: lead-major, targets within a lead."""
        issue = c.issue
        n_lead, n_target = len(issue.positions), len(names)
        n = n_lead * n_target
        issued_s = (int(issue.now) - n_hist) * step_s
        out: dict[str, np.ndarray] = {
            "time": np.full(n, (start_s + issued_s) * 1000, dtype="datetime64[ms]"),
            "sim_time_s": np.full(n, issued_s, dtype=np.int64),
            "scored_s": np.full(n, scored_s, dtype=np.int64),
            "issue": np.full(n, k, dtype=np.int64),
            "cadence": np.full(n, issue.cadence, dtype=object),
            "step": np.repeat(np.asarray(issue.positions, dtype=np.int64) - n_hist, n_target),
            "element": np.tile(np.asarray(names, dtype=object), n_lead),
            "group": np.tile(np.asarray(groups, dtype=object), n_lead),
            "daylight": np.repeat(np.asarray(c.daylight, dtype=bool), n_target),
        }
        q = np.asarray(issue.q, dtype=float)
        for i, stem in enumerate(stems):
            out[f"{stem}_mw"] = q[i].reshape(n)
        out["seasonal_naive_mw"] = np.asarray(issue.seasonal_naive, dtype=float).reshape(n)
        out["persistence_mw"] = np.asarray(issue.persistence, dtype=float).reshape(n)
        out["actual_mw"] = np.asarray(c.actual, dtype=float).reshape(n)
        return out

    parts = [one(k, c) for k, c in enumerate(completed, start=first)]
    if not parts:
        return {}
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def forecast_table(quantiles: Sequence[float], aggregate: Aggregate | None) -> StepTable:
    """The ``forecast`` table for ``quantiles``; ``aggregate(load_p_mw, sgen_p_mw)`` gives
    the true actual per target from the power flow (None: the forecaster's actual)."""
    names = quantile_names(quantiles)
    columns = {
        f"{cadence}_{name}_mw": Column(F8, _quantile(cadence, i))
        for cadence in CADENCES
        for i, name in enumerate(names)
    }
    columns["seasonal_naive_mw"] = Column(F8, attr("forecast", "seasonal_naive_mw"))
    columns["actual_mw"] = Column(F8, _actual(aggregate))
    columns["metered_mw"] = Column(F8, attr("forecast", "actual_mw"))
    return StepTable("forecast", columns, ("forecast",))
