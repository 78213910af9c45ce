"""Forecast models over normalized target histories (pure; no mosaik).

Every model works on one group of targets at once (loads, PV or other
generators): a history ``values`` of shape ``(n_points, n_targets)``,
normalized per target, and ``now``, the position of the last observed
point. A model reads ``values[: now + 1]`` only; what lies after ``now`` may
be anything (the run's buffer holds NaN there, a leakage test holds markers).

- :class:`Persistence`: the last observed value for every lead.
- :class:`SeasonalNaive`: the value at the same time one week earlier.
- :class:`QuantileGbm`: gradient-boosted trees with the pinball (quantile)
  loss on lags, calendar and, for PV, clear-sky features, one model per
  quantile [1]_; trained on day-ahead issues of the training window, its
  quantiles recalibrated on the last days of that window (split-conformal
  scaling of the predicted spread [2]_), and corrected intraday by the
  deviation of the last hour from the day-ahead forecast, with a
  least-squares gain per lead and lead-wise residual quantiles.

Quantiles of every model are rearranged (sorted) so they never cross [3]_;
point models get their quantiles from the empirical quantiles of their own
errors per lead on the training window.

References
----------
.. [1] R. Koenker, G. Bassett, "Regression Quantiles", Econometrica 46(1),
   1978, pp. 33-50 (the pinball loss); J. H. Friedman, "Greedy function
   approximation: a gradient boosting machine", Annals of Statistics 29(5),
   2001, pp. 1189-1232.
.. [2] Y. Romano, E. Patterson, E. Candès, "Conformalized Quantile
   Regression", NeurIPS 2019.
.. [3] V. Chernozhukov, I. Fernández-Val, A. Galichon, "Quantile and
   Probability Curves Without Crossing", Econometrica 78(3), 2010,
   pp. 1093-1125.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from gridtwin.controllers.forecasting.features import base_features

__all__ = [
    "Clock",
    "ModelKind",
    "Persistence",
    "QuantileGbm",
    "SeasonalNaive",
    "make_model",
    "sort_quantiles",
]

ANCHOR_COLUMN = 10
"""Feature column of the seven-day mean at the same time of day (see ``base_features``)."""

SPREAD_FLOOR = 1e-3
"""Smallest quantile spread used to scale residuals [normalized units]."""


class ModelKind(StrEnum):
    """Forecast models."""

    PERSISTENCE = "persistence"
    SEASONAL_NAIVE = "seasonal_naive"
    QUANTILE_GBM = "quantile_gbm"


@dataclass(frozen=True, slots=True)
class Clock:
    """The regular clock of a history buffer and what is known of every position.

    Attributes
    ----------
    steps_per_day : int
        Points per day.
    hour_h, weekday : ndarray
        Local hour of day [h] and weekday (0 = Monday) per position.
    cs : ndarray or None
        Clear-sky irradiance per position [kW/m2] (PV groups only).
    day_ahead_step : int
        Steps after local midnight when the day-ahead forecast is issued.
    """

    steps_per_day: int
    hour_h: np.ndarray
    weekday: np.ndarray
    cs: np.ndarray | None = None
    day_ahead_step: int = 0

    def with_cs(self, cs: np.ndarray | None) -> Clock:
        return Clock(self.steps_per_day, self.hour_h, self.weekday, cs, self.day_ahead_step)

    def step_of_day(self, pos: np.ndarray | int) -> np.ndarray:
        """Steps after local midnight of positions ``pos``."""
        return np.rint(self.hour_h[pos] * self.steps_per_day / 24).astype(np.int64)

    def day_ahead_issues(self, lo: int, hi: int) -> np.ndarray:
        """Last observed positions ``now`` in ``[lo, hi)`` of the day-ahead issues.

        The day-ahead forecast is issued at the start of position ``now + 1``,
        ``day_ahead_step`` steps after local midnight, with data through ``now``.
        """
        pos = np.arange(max(lo, 0), max(hi, 0))
        return pos[self.step_of_day(pos + 1) == self.day_ahead_step]


def sort_quantiles(q: np.ndarray, *, floor: float | None = None) -> np.ndarray:
    """Rearrange quantiles (axis 0) so they never cross; clip below at ``floor``."""
    out = np.sort(q, axis=0)
    return out if floor is None else np.maximum(out, floor)


def _nan_last(past: np.ndarray) -> np.ndarray:
    """The last non-NaN value of each column (NaN if none)."""
    ok = np.isfinite(past)
    idx = np.where(ok.any(axis=0), past.shape[0] - 1 - np.argmax(ok[::-1], axis=0), 0)
    out = past[idx, np.arange(past.shape[1])]
    return np.where(ok.any(axis=0), out, np.nan)


@dataclass(slots=True)
class _PointModel:
    """A point forecast plus per-lead empirical error quantiles."""

    quantiles: tuple[float, ...]
    clock: Clock
    max_lead: int
    nonnegative: bool = False
    error_q: np.ndarray | None = None  # (n_q, max_lead) normalized errors

    def point(self, values: np.ndarray, now: int, leads: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _scale(self, values: np.ndarray, now: int, tau: np.ndarray) -> np.ndarray:
        """Error scale per target position: 1, or for PV the mean of the same time of day
        over the last week (plus a floor), so that bands vanish at night."""
        if self.clock.cs is None:
            return np.ones((len(tau), values.shape[1]))
        spd = self.clock.steps_per_day
        src = tau - (-(-(tau - now) // spd)) * spd
        past = values[: now + 1]
        rows = [past[np.maximum(src - d * spd, 0)] for d in range(7)]
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nan_to_num(np.nanmean(np.stack(rows), axis=0)) + 0.01

    def fit(self, values: np.ndarray, now: int, *, lo: int, **_: object) -> None:
        """Learn the error quantiles from hourly issues in ``[lo, now - max_lead]``."""
        hour = max(1, self.clock.steps_per_day // 24)
        issues = np.arange(max(lo, 8 * self.clock.steps_per_day), now - self.max_lead + 1, hour)
        leads = np.arange(1, self.max_lead + 1)
        if len(issues) == 0:
            self.error_q = np.zeros((len(self.quantiles), self.max_lead))
            return
        errors = []
        for i in issues:
            f = self.point(values, int(i), leads)
            tau = i + leads
            z = (values[tau] - f) / self._scale(values, int(i), tau)
            errors.append(z)
        err = np.stack(errors)  # (n_issue, n_lead, n_targets)
        err = np.moveaxis(err, 1, 0).reshape(self.max_lead, -1)
        with np.errstate(invalid="ignore"):
            q = np.nanquantile(err, self.quantiles, axis=1) if err.size else None
        self.error_q = np.nan_to_num(q if q is not None else 0.0)

    def predict(self, values: np.ndarray, now: int, leads: np.ndarray) -> np.ndarray:
        """Quantile forecasts, shape ``(n_quantiles, len(leads), n_targets)`` [normalized]."""
        leads = np.asarray(leads, dtype=np.int64)
        f = self.point(values, now, leads)
        assert self.error_q is not None, "fit first"
        e = self.error_q[:, np.minimum(leads, self.max_lead) - 1]  # (n_q, n_lead)
        s = self._scale(values, now, now + leads)
        q = f[None] + e[:, :, None] * s[None]
        return sort_quantiles(q, floor=0.0 if self.nonnegative else None)


@dataclass(slots=True)
class Persistence(_PointModel):
    """The last observed value, for every lead (NaN gaps skipped)."""

    def point(self, values: np.ndarray, now: int, leads: np.ndarray) -> np.ndarray:
        last = _nan_last(values[max(0, now + 1 - self.clock.steps_per_day) : now + 1])
        return np.broadcast_to(last, (len(leads), values.shape[1])).copy()


@dataclass(slots=True)
class SeasonalNaive(_PointModel):
    """The value at the same time one week earlier (two weeks for leads over a week)."""

    def point(self, values: np.ndarray, now: int, leads: np.ndarray) -> np.ndarray:
        week = 7 * self.clock.steps_per_day
        leads = np.asarray(leads, dtype=np.int64)
        src = now + leads - (-(-leads // week)) * week
        past = values[: now + 1]
        out = np.full((len(leads), values.shape[1]), np.nan)
        ok = src >= 0
        out[ok] = past[src[ok]]
        return out


@dataclass(slots=True)
class QuantileGbm:
    """Gradient-boosted quantile regression with calibration and intraday correction.

    Parameters
    ----------
    quantiles : tuple of float
        Quantile levels, ascending, with 0.5 among them.
    clock : Clock
        The buffer's clock (with clear sky for PV).
    intraday_leads : int
        Longest intraday lead [steps] the correction is fitted for.
    seed : int
        Seed of the tree learner and of the row sample.
    max_rows : int
        Training rows kept (a seeded random sample).
    calibration_days : int
        Last days of the training window held out for calibration.
    nonnegative : bool
        Clip forecasts at zero (generators).
    """

    quantiles: tuple[float, ...]
    clock: Clock
    intraday_leads: int
    seed: int = 0
    max_rows: int = 10000
    calibration_days: int = 14
    nonnegative: bool = False
    max_iter: int = 40
    max_leaf_nodes: int = 8
    models: list = field(default_factory=list)
    base_z: np.ndarray | None = None  # (n_q,) calibrated spread factors
    gain: np.ndarray | None = None  # (intraday_leads, 2) gains of the two deviations
    intraday_z: np.ndarray | None = None  # (n_q, intraday_leads)

    @property
    def horizon(self) -> int:
        """Steps covered by one base (day-ahead) issue: two days."""
        return 2 * self.clock.steps_per_day

    def _features(self, values: np.ndarray, now: int, tau: np.ndarray) -> np.ndarray:
        c = self.clock
        return base_features(
            values,
            now,
            tau,
            steps_per_day=c.steps_per_day,
            hour_h=c.hour_h,
            weekday=c.weekday,
            cs=c.cs,
        )

    def _rows(self, values: np.ndarray, issues: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        leads = np.arange(1, self.horizon + 1)
        for i in issues:
            tau = i + leads
            xs.append(self._features(values, int(i), tau))
            ys.append(values[tau].reshape(-1))
        return np.concatenate(xs), np.concatenate(ys)

    def fit(self, values: np.ndarray, now: int, *, lo: int, **_: object) -> None:
        """Train on day-ahead issues in ``[lo, now]`` and calibrate on its last days."""
        from sklearn.ensemble import HistGradientBoostingRegressor
        from threadpoolctl import threadpool_limits

        spd = self.clock.steps_per_day
        cal_lo = now + 1 - self.calibration_days * spd
        train = self.clock.day_ahead_issues(lo, cal_lo - self.horizon + 1)
        x, y = self._rows(values, train)
        ok = np.isfinite(y) & self._active(x)
        x, y = x[ok], y[ok] - self._anchor(x[ok])
        rng = np.random.default_rng(self.seed)
        if len(y) > self.max_rows:
            keep = np.sort(rng.choice(len(y), self.max_rows, replace=False))
            x, y = x[keep], y[keep]
        self.models = []
        with threadpool_limits(1):
            for q in self.quantiles:
                model = HistGradientBoostingRegressor(
                    loss="quantile",
                    quantile=q,
                    max_iter=self.max_iter,
                    learning_rate=0.1,
                    max_leaf_nodes=self.max_leaf_nodes,
                    min_samples_leaf=40,
                    l2_regularization=1.0,
                    early_stopping=False,
                    random_state=self.seed,
                )
                self.models.append(model.fit(x, y))
        self._calibrate(values, now, cal_lo)

    @staticmethod
    def _anchor(x: np.ndarray) -> np.ndarray:
        """What the trees correct: the mean of the same time over the last seven observed
        days. Trees cannot extrapolate; learning the residual of a level that moves with
        the season keeps them inside their training range."""
        return np.nan_to_num(x[:, ANCHOR_COLUMN])

    def _active(self, x: np.ndarray) -> np.ndarray:
        """Rows to learn and predict: for PV those whose time of day produced in the last
        week (the rest is night: zero). Quantile trees cannot leave a median of zero on
        zero-inflated data, so night rows are kept out of training."""
        if self.clock.cs is None:
            return np.ones(len(x), dtype=bool)
        return x[:, -1] > 0

    def _raw(self, values: np.ndarray, now: int) -> np.ndarray:
        """Uncalibrated quantiles for leads 1..horizon, shape (n_q, horizon, n_targets)."""
        from threadpoolctl import threadpool_limits

        tau = now + np.arange(1, self.horizon + 1)
        x = self._features(values, now, tau)
        with threadpool_limits(1):
            q = np.stack([m.predict(x) for m in self.models])
        q = np.where(self._active(x)[None], q + self._anchor(x)[None], 0.0)
        return q.reshape(len(self.quantiles), self.horizon, values.shape[1])

    def _raws(self, values: np.ndarray, issues: np.ndarray) -> list[np.ndarray]:
        """:meth:`_raw` of every issue in ``issues``, predicted in one call per quantile."""
        from threadpoolctl import threadpool_limits

        lead = np.arange(1, self.horizon + 1)
        x = np.concatenate([self._features(values, int(i), i + lead) for i in issues])
        with threadpool_limits(1):
            q = np.stack([m.predict(x) for m in self.models])
        q = np.where(self._active(x)[None], q + self._anchor(x)[None], 0.0)
        shape = (len(self.quantiles), len(issues), self.horizon, values.shape[1])
        q = q.reshape(shape)
        return [q[:, k] for k in range(len(issues))]

    def _finish(self, q: np.ndarray, tau: np.ndarray) -> np.ndarray:
        return sort_quantiles(q, floor=0.0 if self.nonnegative else None)

    def _calibrated(self, raw: np.ndarray) -> np.ndarray:
        mid = raw[self.quantiles.index(0.5)]
        spread = np.maximum(raw[-1] - raw[0], SPREAD_FLOOR)
        assert self.base_z is not None
        return mid[None] + self.base_z[:, None, None] * spread[None]

    def predict_base(self, values: np.ndarray, now: int) -> np.ndarray:
        """Calibrated quantiles for leads 1..horizon, shape (n_q, horizon, n_targets)."""
        tau = now + np.arange(1, self.horizon + 1)
        return self._finish(self._calibrated(self._raw(values, now)), tau)

    def _calibrate(self, values: np.ndarray, now: int, cal_lo: int) -> None:
        nq = len(self.quantiles)
        mid = self.quantiles.index(0.5)
        spd = self.clock.steps_per_day
        issues = self.clock.day_ahead_issues(cal_lo - spd, now - self.horizon + 1)
        n_t = values.shape[1]
        self.base_z = np.asarray([-1.2816, 0.0, 1.2816][:nq] if nq == 3 else np.zeros(nq))
        self.gain = np.zeros((self.intraday_leads, 2))
        self.intraday_z = np.zeros((nq, self.intraday_leads))
        if len(issues) == 0:
            return
        raws = self._raws(values, issues)
        # split-conformal scaling of the spread, from the day-ahead window of each issue
        z_all = []
        for i, raw in zip(issues, raws, strict=True):
            tau = i + np.arange(1, self.horizon + 1)
            spread = raw[-1] - raw[0]
            z = (values[tau] - raw[mid]) / np.maximum(spread, SPREAD_FLOOR)
            z_all.append(z[spread > SPREAD_FLOOR])
        z = np.concatenate(z_all)
        z = z[np.isfinite(z)]
        if z.size:
            self.base_z = np.quantile(z, self.quantiles)
        # base in effect at every position: the latest issue before it
        lo, hi = int(issues[0]) + 1, int(issues[-1]) + self.horizon + 1
        base = np.full((nq, hi - lo, n_t), np.nan)
        for i, raw in zip(issues, raws, strict=True):
            a = int(i) + 1 - lo
            base[:, a : a + self.horizon] = self._calibrated(raw)
        self._fit_intraday(values, base, lo, max(lo, cal_lo), min(hi, now + 1))

    def _deviation(self, values: np.ndarray, b50: np.ndarray, now: int, lo: int) -> np.ndarray:
        """Deviations from the base median over the last step and the last hour, shape
        (2, n_targets): mean differences, or for generators relative to the base
        (``sum(y - b) / sum(b)``, 0 where the base is about zero)."""
        hour = max(1, self.clock.steps_per_day // 24)
        out = np.zeros((2, values.shape[1]))
        for r, width in enumerate((1, hour)):
            a = max(now + 1 - width, lo)
            y, b = values[a : now + 1], b50[a - lo : now + 1 - lo]
            if len(y) == 0:
                continue
            with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                if not self.nonnegative:
                    out[r] = np.nan_to_num(np.nanmean(y - b, axis=0))
                else:
                    total = np.nansum(b, axis=0)
                    rel = np.nansum(y - b, axis=0) / total
                    out[r] = np.where(total > 0.02 * len(y), np.nan_to_num(rel), 0.0)
        return out

    def _deviations(
        self, values: np.ndarray, b50: np.ndarray, issues: np.ndarray, lo: int
    ) -> np.ndarray:
        """:meth:`_deviation` of every issue in ``issues`` at once, shape (2, n_issue, n_t).

        Every issue needs its full last hour at or after ``lo`` (as in the
        intraday fit, whose issues start an hour after the calibration window).
        """
        hour = max(1, self.clock.steps_per_day // 24)
        out = np.zeros((2, len(issues), values.shape[1]))
        for r, width in enumerate((1, hour)):
            idx = issues[:, None] + 1 - width + np.arange(width)[None]  # (n_issue, width)
            assert idx.min() >= lo, "an issue's hour starts before the base window"
            y, b = values[idx], b50[idx - lo]  # (n_issue, width, n_t)
            with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                if not self.nonnegative:
                    out[r] = np.nan_to_num(np.nanmean(y - b, axis=1))
                else:
                    total = np.nansum(b, axis=1)
                    rel = np.nansum(y - b, axis=1) / total
                    out[r] = np.where(total > 0.02 * width, np.nan_to_num(rel), 0.0)
        return out

    def _regressor(self, dev: np.ndarray, b50: np.ndarray) -> np.ndarray:
        """The correction's regressors at the target positions, shape (2, k, n_t)."""
        if not self.nonnegative:
            return np.broadcast_to(dev[:, None, :], (2, *b50.shape))
        return dev[:, None, :] * b50[None]

    def _fit_intraday(
        self, values: np.ndarray, base: np.ndarray, lo: int, cal_lo: int, hi: int
    ) -> None:
        """Least-squares gains per lead for the two deviations, then lead-wise residual
        quantiles scaled by the base spread."""
        mid = self.quantiles.index(0.5)
        hour = max(1, self.clock.steps_per_day // 24)
        k_max = self.intraday_leads
        leads = np.arange(1, k_max + 1)
        issues = np.arange(cal_lo + hour, hi - k_max, max(1, hour // 2))
        if len(issues) == 0:
            return
        tau = issues[:, None] + leads[None]  # (n_issue, k)
        b50 = base[mid, tau - lo]  # (n_issue, k, n_t)
        dev = self._deviations(values, base[mid], issues, lo)  # (2, n_issue, n_t)
        if not self.nonnegative:
            x = np.broadcast_to(dev[:, :, None, :], (2, *b50.shape))
        else:
            x = dev[:, :, None, :] * b50[None]
        x = np.asarray(x)  # (2, n_issue, k, n_t)
        r, s = values[tau] - b50, base[-1, tau - lo] - base[0, tau - lo]  # (n_issue, k, n_t)
        ok = np.isfinite(x).all(axis=0) & np.isfinite(r) & np.isfinite(s)
        x0, r0 = np.where(ok[None], x, 0.0), np.where(ok, r, 0.0)
        xx = np.einsum("aikt,bikt->kab", x0, x0) + 1e-9 * np.eye(2)[None]
        xr = np.einsum("aikt,ikt->ka", x0, r0)
        self.gain = np.linalg.solve(xx, xr[:, :, None])[:, :, 0]  # (k, 2)
        fit = np.einsum("ka,aikt->ikt", self.gain, x0)
        z = (r - fit) / np.maximum(s, SPREAD_FLOOR)
        z = np.where(ok & (s > SPREAD_FLOOR), z, np.nan).transpose(1, 0, 2).reshape(k_max, -1)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.intraday_z = np.nan_to_num(np.nanquantile(z, self.quantiles, axis=1))

    def predict_intraday(
        self, values: np.ndarray, base: np.ndarray, base_lo: int, now: int, leads: np.ndarray
    ) -> np.ndarray:
        """Intraday quantiles from the base in effect (``base[:, p - base_lo]`` for position p).

        Returns shape ``(n_q, len(leads), n_targets)``.
        """
        assert self.gain is not None and self.intraday_z is not None
        mid = self.quantiles.index(0.5)
        leads = np.asarray(leads, dtype=np.int64)
        tau = now + leads
        b = base[:, tau - base_lo]
        dev = self._deviation(values, base[mid], now, base_lo)
        k = np.minimum(leads, self.intraday_leads) - 1
        center = b[mid] + np.einsum("ka,akt->kt", self.gain[k], self._regressor(dev, b[mid]))
        spread = np.maximum(b[-1] - b[0], SPREAD_FLOOR)
        q = center[None] + self.intraday_z[:, k][:, :, None] * spread[None]
        return self._finish(q, tau)


def make_model(
    kind: ModelKind | str,
    *,
    quantiles: tuple[float, ...],
    clock: Clock,
    max_lead: int,
    intraday_leads: int,
    nonnegative: bool,
    seed: int = 0,
    max_rows: int = 10000,
    calibration_days: int = 14,
) -> _PointModel | QuantileGbm:
    """A model of ``kind`` for one group of targets."""
    kind = ModelKind(kind)
    if kind == ModelKind.QUANTILE_GBM:
        return QuantileGbm(
            quantiles,
            clock,
            intraday_leads,
            seed=seed,
            max_rows=max_rows,
            calibration_days=calibration_days,
            nonnegative=nonnegative,
        )
    cls = Persistence if kind == ModelKind.PERSISTENCE else SeasonalNaive
    return cls(quantiles, clock, max_lead, nonnegative)
