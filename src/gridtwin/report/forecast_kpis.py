"""Forecast KPIs per cadence: MAE, skill against seasonal naive, PICP, pinball (pure; no mosaik).

Scores are taken over every completed issue of a cadence, every lead of its
horizon and every target of the forecasting level. Loads count at every
step; PV only in daylight (clear sky above zero: at night both the forecast
and the actual are zero by construction). Other generators (wind, biomass,
hydro) are forecast but not scored here. ``picp80`` is the share of load and
daylight-PV actuals inside the outermost quantiles (10-90 % by default);
``pinball_loss`` [MW] the mean pinball loss over those points and every
quantile. The skill is ``1 - MAE / MAE of seasonal naive`` on the same
points; persistence's MAE is given too.

The forecasts are scored against the **true** target values (the testbed's
truth, given step by step with :meth:`ForecastKpis.add_truth`), not against
the metered values the forecaster learned from; without truth for an
issue's steps, against the actuals the forecaster was given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gridtwin.controllers.forecasting.features import GROUPS

__all__ = ["ForecastKpis"]

_SCORED = ("load", "pv")


@dataclass(slots=True)
class _Sums:
    n: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_SCORED, 0))
    model: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_SCORED, 0.0))
    seasonal_naive: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_SCORED, 0.0))
    persistence: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_SCORED, 0.0))
    covered: int = 0
    n_band: int = 0
    pinball: float = 0.0
    n_pinball: int = 0
    issues: int = 0


@dataclass(slots=True)
class ForecastKpis:
    """Accumulates the ``forecast`` section of ``kpis.json``.

    Parameters
    ----------
    group : ndarray of int
        Index into ``GROUPS`` per target.
    quantiles : tuple of float
        The forecaster's quantile levels.
    info : dict
        Fixed entries of the section (model, level, ...).
    aggregate : callable, optional
        ``aggregate(load_p_mw, sgen_p_mw)``: the target values [MW] of element powers.
    n_hist : int
        Forecaster buffer positions before the run's first step (position = n_hist + step).
    sink : callable, optional
        ``sink(step, completed)`` is given every list of completed issues as it is
        added, ``step`` the last run step whose truth was known then (-1: none), so
        that they can be recorded (``forecast_issues``) and the section recomputed.
    """

    group: np.ndarray
    quantiles: tuple[float, ...]
    info: dict = field(default_factory=dict)
    sums: dict[str, _Sums] = field(default_factory=dict)
    train_s: float = 0.0
    aggregate: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    n_hist: int = 0
    truth: dict[int, np.ndarray] = field(default_factory=dict)
    sink: Callable[[int, list], None] | None = None
    last_step: int = -1

    def add_truth(self, step: int, load_p_mw: np.ndarray, sgen_p_mw: np.ndarray) -> None:
        """The true served load and sgen power [MW] of run step ``step``."""
        if self.aggregate is not None:
            self.truth[step] = np.asarray(self.aggregate(load_p_mw, sgen_p_mw), dtype=float)
            self.last_step = max(self.last_step, step)

    def _actual(self, completed: object) -> np.ndarray:
        """The true values of a completed issue's steps, else the forecaster's actuals."""
        c: object = completed
        steps = c.issue.positions - self.n_hist  # type: ignore[attr-defined]
        if self.truth and all(int(k) in self.truth for k in steps):
            return np.stack([self.truth[int(k)] for k in steps])
        return c.actual  # type: ignore[attr-defined]

    def add(self, completed: list) -> None:
        """Account completed issues (``Completed`` from the forecaster)."""
        levels = np.asarray(self.quantiles)
        mid = self.quantiles.index(0.5)
        if self.sink is not None and completed:
            self.sink(self.last_step, completed)
        for c in completed:
            issue = c.issue
            s = self.sums.setdefault(issue.cadence, _Sums())
            s.issues += 1
            a = self._actual(c)
            band_y, band_q = [], []
            for gname in _SCORED:
                cols = np.flatnonzero(self.group == GROUPS.index(gname))
                if not len(cols):
                    continue
                rows = c.daylight if gname == "pv" else np.ones(len(a), dtype=bool)
                y = a[rows][:, cols]
                q = issue.q[:, rows][:, :, cols]
                ok = np.isfinite(y) & np.isfinite(q).all(axis=0)
                s.n[gname] += int(ok.sum())
                s.model[gname] += float(np.abs(y - q[mid])[ok].sum())
                sn = issue.seasonal_naive[rows][:, cols]
                pe = issue.persistence[rows][:, cols]
                s.seasonal_naive[gname] += float(np.nan_to_num(np.abs(y - sn))[ok].sum())
                s.persistence[gname] += float(np.nan_to_num(np.abs(y - pe))[ok].sum())
                band_y.append(y[ok])
                band_q.append(q[:, ok])
            if band_y:
                y = np.concatenate(band_y)
                q = np.concatenate(band_q, axis=1)
                s.covered += int(((q[0] <= y) & (y <= q[-1])).sum())
                s.n_band += y.size
                d = y[None] - q
                tau = levels[:, None]
                s.pinball += float(np.maximum(tau * d, (tau - 1.0) * d).sum())
                s.n_pinball += d.size

    def section(self) -> dict:
        """The ``forecast`` section: fixed info plus one object per cadence."""
        out: dict = dict(self.info)
        out["train_s"] = round(self.train_s, 3)
        for cadence in ("intraday", "day_ahead"):
            s = self.sums.get(cadence)
            if s is None:
                continue
            sec: dict = {"issues": s.issues}
            for g in _SCORED:
                if not s.n[g]:
                    continue
                n = s.n[g]
                m, sn, pe = s.model[g] / n, s.seasonal_naive[g] / n, s.persistence[g] / n
                sec[f"{g}_mae_mw"] = m
                sec[f"{g}_skill_vs_seasonal_naive"] = 1.0 - m / sn if sn > 0 else None
                sec[f"{g}_mae_seasonal_naive_mw"] = sn
                sec[f"{g}_mae_persistence_mw"] = pe
            sec["picp80"] = s.covered / s.n_band if s.n_band else None
            sec["pinball_loss"] = s.pinball / s.n_pinball if s.n_pinball else None
            out[cadence] = sec
        return out
