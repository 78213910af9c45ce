"""The forecaster: history, schedules, models and outputs, step by step (pure; no mosaik).

Timing. At run step ``k`` (time ``t_k``) the forecaster has the actuals of
the steps before ``k`` (a step's value is known when its interval ends) and
issues forecasts for steps ``k, k + 1, ...`` (lead 1 = the current step).
Its buffer holds the training history before the start (from the profiles)
followed by the run's actuals as they arrive; every forecast reads the buffer
up to ``now`` (the last known position) and never beyond.

Cadences:

- ``intraday``: every ``every`` steps, the next ``horizon`` steps;
- ``day_ahead``: once a day at a set local time, the whole next local day.

The outputs per step are the forecasts in effect for the current step (for
the run store and the estimator's pseudo-measurements) and the issues whose
whole horizon has become known (for the KPIs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gridtwin.controllers.forecasting.features import (
    GROUPS,
    TargetSet,
    _quiet,
    calendar,
    clear_sky_ghi_w_m2,
)
from gridtwin.controllers.forecasting.models import (
    Clock,
    ModelKind,
    Persistence,
    QuantileGbm,
    SeasonalNaive,
    make_model,
)

__all__ = [
    "Completed",
    "ForecastConfig",
    "ForecastStep",
    "Forecaster",
    "Issue",
    "PseudoForecast",
    "common_error_inflation",
    "element_shares",
    "q_per_p",
    "warmup_steps",
]

ADAPT_RATE = 0.2
"""Step size of the adaptive fan width per completed issue [-]."""

WARMUP_DAYS = 29
"""Days of history before the training window that the lag features read."""


def warmup_steps(step_s: int) -> int:
    """History [steps] the lag features need before the first training issue."""
    return WARMUP_DAYS * 86400 // step_s


@dataclass(frozen=True, slots=True)
class ForecastConfig:
    """How the forecaster runs (all times in steps of the run's clock).

    Attributes
    ----------
    model : ModelKind
        ``persistence``, ``seasonal_naive`` or ``quantile_gbm``.
    quantiles : tuple of float
        Quantile levels, ascending, containing 0.5 (and at least one on each side).
    intraday_every, intraday_horizon : int or None
        Intraday cadence and horizon [steps]; None: no intraday forecasts.
    day_ahead_step : int or None
        Local time of the day-ahead issue [steps after midnight]; None: none.
    retrain_every : int
        Shortest interval between trainings [steps]; training happens at
        day-ahead issue times (at most once a day).
    training : int
        Training window [steps].
    calibration_days : int
        Last days of the training window used to calibrate the learned model.
    latitude_deg, longitude_deg : float or None
        Site of the PV generators (clear-sky model).
    seed : int
        Seed of the learned model.
    max_rows : int
        Training rows kept per group.
    """

    model: ModelKind = ModelKind.QUANTILE_GBM
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    intraday_every: int | None = 4
    intraday_horizon: int | None = 16
    day_ahead_step: int | None = 48
    retrain_every: int = 7 * 96
    training: int = 56 * 96
    calibration_days: int = 14
    latitude_deg: float | None = None
    longitude_deg: float | None = None
    seed: int = 0
    max_rows: int = 10000


@dataclass(frozen=True, slots=True)
class Issue:
    """One issued forecast: quantiles for ``positions`` [MW], with the references.

    ``q`` has shape ``(n_quantiles, n_leads, n_targets)``; ``seasonal_naive``
    and ``persistence`` ``(n_leads, n_targets)``. ``now`` is the last known
    position when it was issued; ``positions = now + leads``.
    """

    cadence: str
    now: int
    leads: np.ndarray
    q: np.ndarray
    seasonal_naive: np.ndarray
    persistence: np.ndarray

    @property
    def positions(self) -> np.ndarray:
        return self.now + self.leads

    def at(self, pos: int) -> np.ndarray | None:
        """Quantiles for position ``pos`` ``(n_q, n_targets)``, or None if not covered."""
        k = pos - self.now - int(self.leads[0])
        if 0 <= k < len(self.leads) and self.leads[k] == pos - self.now:
            return self.q[:, k]
        return None


@dataclass(frozen=True, slots=True)
class Completed:
    """An issue whose whole horizon is known: the forecast and the actuals [MW]."""

    issue: Issue
    actual: np.ndarray  # (n_leads, n_targets)
    daylight: np.ndarray  # (n_leads,) clear sky above zero or PV producing


@dataclass(frozen=True, slots=True)
class PseudoForecast:
    """Per-element forecast of the current step, for pseudo-measurements.

    Mean from the median forecast times the element's share of its target,
    sigma from the quantile spread (``(q_hi - q_lo) / (z_hi - z_lo)``, the
    standard deviation of a normal distribution with those quantiles) times
    the share and the common-error inflation of its target (see
    :func:`common_error_inflation`), combined with the error of sharing
    (root sum of squares).
    Q is P times the element's Q/P ratio over the history, its sigma the
    ratio times P's sigma combined with the ratio's own error over the
    history (inflated likewise: elements of one profile type err together).
    Element order as in pandapower.
    """

    load_p_mw: np.ndarray
    load_sigma_mw: np.ndarray
    sgen_p_mw: np.ndarray
    sgen_sigma_mw: np.ndarray
    load_q_mvar: np.ndarray
    load_q_sigma_mvar: np.ndarray
    sgen_q_mvar: np.ndarray
    sgen_q_sigma_mvar: np.ndarray


@dataclass(frozen=True, slots=True)
class ForecastStep:
    """What the forecaster gives at one step.

    ``current`` maps a cadence to its quantiles for the current step
    ``(n_q, n_targets)`` [MW] (NaN before a cadence's first issue covers it);
    ``actual_mw`` is the step's actual (testbed knowledge, for the run store);
    ``completed`` the issues scored now.
    """

    time_s: int
    current: dict[str, np.ndarray]
    seasonal_naive_mw: np.ndarray
    actual_mw: np.ndarray
    pseudo: PseudoForecast | None
    completed: list[Completed] = field(default_factory=list)
    train_s: float = 0.0


def element_shares(
    targets: TargetSet, load_hist_mw: np.ndarray, sgen_hist_mw: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each element's share of its target, and the error of sharing [MW].

    The share is the element's mean over the history divided by its target's
    (equal shares where the target's mean is zero); the error is the root mean
    square of ``element - share * target`` over the history (zero at element
    level), which a pseudo-measurement adds to the forecast's own sigma.

    Returns
    -------
    load_share, sgen_share, load_error_mw, sgen_error_mw : ndarray
    """
    with np.errstate(invalid="ignore"), _quiet():
        load_mean = np.nan_to_num(np.nanmean(np.abs(load_hist_mw), axis=0))
        sgen_mean = np.nan_to_num(np.nanmean(np.abs(sgen_hist_mw), axis=0))
    total = np.zeros(targets.n_targets)
    count = np.zeros(targets.n_targets)
    np.add.at(total, targets.load_target, load_mean)
    np.add.at(total, targets.sgen_target, sgen_mean)
    np.add.at(count, targets.load_target, 1.0)
    np.add.at(count, targets.sgen_target, 1.0)
    series = targets.aggregate(load_hist_mw, sgen_hist_mw)

    def share(mean: np.ndarray, tgt: np.ndarray, hist: np.ndarray) -> tuple[np.ndarray, ...]:
        t = total[tgt]
        w = np.where(t > 0, mean / np.where(t > 0, t, 1.0), 1.0 / np.maximum(count[tgt], 1))
        with np.errstate(invalid="ignore"), _quiet():
            err = np.sqrt(np.nan_to_num(np.nanmean((hist - w * series[:, tgt]) ** 2, axis=0)))
        return w, err

    lw, le = share(load_mean, targets.load_target, load_hist_mw)
    sw, se = share(sgen_mean, targets.sgen_target, sgen_hist_mw)
    return lw, sw, le, se


def common_error_inflation(target: np.ndarray, share: np.ndarray, n_targets: int) -> np.ndarray:
    """Factor on each element's share of its target's forecast sigma [-].

    The elements of one target share its forecast error: element ``i`` errs
    by ``share_i * E`` with ``E`` the target's error, fully correlated across
    the target. An estimator with independent measurement errors (a diagonal
    covariance) would put the variance of their sum at
    ``sigma_T**2 * sum(share**2)`` instead of ``sigma_T**2 * sum(share)**2``:
    the sum of a feeder's pseudo-measurements then looks far more precise
    than it is, and conflicts with the feeder-head meter that measures it.
    Scaling each element's part by ``sqrt(n_eff)``, ``n_eff =
    sum(share)**2 / sum(share**2)`` (``n`` for equal shares), makes the
    independent model's variance of the sum equal to the true one.

    Parameters
    ----------
    target : ndarray of int
        Target index per element.
    share : ndarray
        Element's share of its target [-].
    n_targets : int
        Number of targets.

    Returns
    -------
    ndarray
        ``sqrt(n_eff)`` of each element's target (1 for a target of one element).
    """
    w = np.abs(np.asarray(share, dtype=float))
    total = np.zeros(n_targets)
    square = np.zeros(n_targets)
    np.add.at(total, target, w)
    np.add.at(square, target, w * w)
    n_eff = np.where(square > 0, total**2 / np.where(square > 0, square, 1.0), 1.0)
    return np.sqrt(np.maximum(n_eff, 1.0))[target]


def q_per_p(p_hist_mw: np.ndarray, q_hist_mvar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each element's Q/P over the history (least squares) and the RMS error of ``ratio * P``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        pp_ = np.nansum(p_hist_mw * p_hist_mw, axis=0)
        ratio = np.where(pp_ > 0, np.nansum(p_hist_mw * q_hist_mvar, axis=0) / pp_, 0.0)
        with _quiet():
            err = np.sqrt(np.nan_to_num(np.nanmean((q_hist_mvar - ratio * p_hist_mw) ** 2, axis=0)))
    return np.nan_to_num(ratio), err


class Forecaster:
    """Forecasts every target of a :class:`TargetSet` as the run goes.

    Parameters
    ----------
    targets : TargetSet
        What is forecast.
    history_mw : ndarray, shape (n_history, n_targets)
        Target values before the start [MW], at the run's step; row ``-1`` is
        the step before the start.
    start_s : int
        Epoch of the run's start [s].
    step_s : int
        The run's step [s].
    n_steps : int
        Steps of the run.
    utc_offset_s : int
        Offset of local time (calendar features, day-ahead issue time) [s].
    config : ForecastConfig
        Models and schedules.
    load_share, sgen_share, load_share_error_mw, sgen_share_error_mw : ndarray, optional
        Each element's share of its target and the error of sharing [MW]
        (pseudo-measurements); see :func:`element_shares`.
    q_per_p : tuple of ndarray, optional
        ``(load ratio, load error [MVAr], sgen ratio, sgen error [MVAr])``:
        each element's Q/P and the error of Q = ratio * P (see
        :func:`q_per_p`); default: Q = 0 with P's sigma.
    """

    def __init__(
        self,
        targets: TargetSet,
        history_mw: np.ndarray,
        *,
        start_s: int,
        step_s: int,
        n_steps: int,
        utc_offset_s: int,
        config: ForecastConfig,
        load_share: np.ndarray | None = None,
        sgen_share: np.ndarray | None = None,
        load_share_error_mw: np.ndarray | None = None,
        sgen_share_error_mw: np.ndarray | None = None,
        q_per_p: tuple[np.ndarray, ...] | None = None,
    ) -> None:
        self.targets = targets
        self.config = config
        self.step_s = step_s
        self.spd = 86400 // step_s
        self.n_hist = history_mw.shape[0]
        self.start_s = start_s
        horizon = max(
            config.intraday_horizon or 0, 2 * self.spd + 1, (config.intraday_every or 0) + 1
        )
        n_total = self.n_hist + n_steps + horizon + 1
        self.time_s = start_s + step_s * (np.arange(n_total, dtype=np.int64) - self.n_hist)
        hour_h, weekday = calendar(self.time_s, utc_offset_s)
        self.raw = np.full((n_total, targets.n_targets), np.nan)
        self.raw[: self.n_hist] = history_mw
        self.now = self.n_hist - 1
        groups = targets.group
        self.cols = {g: np.flatnonzero(groups == i) for i, g in enumerate(GROUPS)}
        self.cols = {g: c for g, c in self.cols.items() if len(c)}
        train = history_mw[-config.training :] if config.training else history_mw
        with np.errstate(invalid="ignore"):
            scale = np.where(
                np.isin(groups, [GROUPS.index("pv"), GROUPS.index("other")]),
                np.nanmax(np.abs(train), axis=0, initial=0.0),
                np.nanmean(np.abs(train), axis=0),
            )
        self.scale = np.where(np.isfinite(scale) & (scale > 1e-9), scale, 1.0)
        self.values = self.raw / self.scale
        # one contiguous buffer per group: models slice these, never copy the whole history
        self.gv = {g: np.ascontiguousarray(self.values[:, c]) for g, c in self.cols.items()}
        cs = None
        if "pv" in self.cols:
            cs = (
                clear_sky_ghi_w_m2(
                    self.time_s,
                    latitude_deg=float(config.latitude_deg),  # type: ignore[arg-type]
                    longitude_deg=float(config.longitude_deg),  # type: ignore[arg-type]
                    step_s=step_s,
                )
                / 1000.0
            )
        self.cs = cs
        da_step = (
            config.day_ahead_step if config.day_ahead_step is not None else 12 * self.spd // 24
        )
        clock = Clock(self.spd, hour_h, weekday, None, da_step)
        self.clock = clock
        max_lead = max(config.intraday_horizon or 1, 2 * self.spd)
        self.models = {
            g: make_model(
                config.model,
                quantiles=config.quantiles,
                clock=clock.with_cs(cs if g == "pv" else None),
                max_lead=max_lead,
                intraday_leads=config.intraday_horizon or self.spd // 6,
                nonnegative=g != "load",
                seed=config.seed,
                max_rows=config.max_rows,
                calibration_days=config.calibration_days,
            )
            for g in self.cols
        }
        self.sn = {g: SeasonalNaive(config.quantiles, clock, max_lead) for g in self.cols}
        self.pers = {g: Persistence(config.quantiles, clock, max_lead) for g in self.cols}
        from scipy.stats import norm

        z = norm.ppf(np.asarray(config.quantiles))
        self._z_span = float(z[-1] - z[0])
        self.load_share = (
            np.ones(len(targets.load_target)) if load_share is None else np.asarray(load_share)
        )
        self.sgen_share = (
            np.ones(len(targets.sgen_target)) if sgen_share is None else np.asarray(sgen_share)
        )
        self.load_share_error = (
            np.zeros(len(targets.load_target))
            if load_share_error_mw is None
            else np.asarray(load_share_error_mw)
        )
        self.sgen_share_error = (
            np.zeros(len(targets.sgen_target))
            if sgen_share_error_mw is None
            else np.asarray(sgen_share_error_mw)
        )
        self.load_inflation = common_error_inflation(
            targets.load_target, self.load_share, targets.n_targets
        )
        self.sgen_inflation = common_error_inflation(
            targets.sgen_target, self.sgen_share, targets.n_targets
        )
        n_l, n_s = len(targets.load_target), len(targets.sgen_target)
        self.q_per_p = q_per_p or (np.zeros(n_l), np.zeros(n_l), np.zeros(n_s), np.zeros(n_s))
        self.issues: dict[str, list[Issue]] = {"intraday": [], "day_ahead": []}
        self._base: list[tuple[int, np.ndarray]] = []  # (now, normalized (n_q, horizon, n_t))
        self._pending: list[Issue] = []
        self.band = {"intraday": 1.0, "day_ahead": 1.0}  # adaptive width of the quantile fan
        self._last_train: int | None = None
        self._pending_actual: np.ndarray | None = None
        self._step = 0
        self.train_s_total = 0.0
        self._start()

    # --- training and issuing ---------------------------------------------------------

    @property
    def learned(self) -> bool:
        return ModelKind(self.config.model) == ModelKind.QUANTILE_GBM

    def _train(self, now: int) -> float:
        import time

        t0 = time.perf_counter()
        lo = max(now + 1 - self.config.training, warmup_steps(self.step_s))
        for g in self.cols:  # the references (seasonal naive, persistence) need no training
            self.models[g].fit(self.gv[g], now, lo=lo)
        self._last_train = now
        return time.perf_counter() - t0

    def _start(self) -> None:
        """Train and issue as of the start; a missed day-ahead issue is made at its time."""
        last = self.n_hist - 1
        da = self.clock.day_ahead_issues(last - self.spd + 1, last + 1)
        first = int(da[-1]) if len(da) else last
        self.train_s_total += self._train(first)
        if self.learned:
            self._issue_base(first)
        if self.config.day_ahead_step is not None and len(da):
            self._issue_day_ahead(first)
        if self.config.intraday_every:
            self._issue_intraday(last)

    def _predict(self, g: str, now: int, leads: np.ndarray) -> np.ndarray:
        """Quantiles of group ``g`` [normalized], shape (n_q, len(leads), n_cols)."""
        model = self.models[g]
        v = self.gv[g]
        if isinstance(model, QuantileGbm):
            lo = now - self.spd
            base = self._base_window(lo, now + int(leads.max()), self.cols[g])
            return model.predict_intraday(v, base, lo, now, leads)
        return model.predict(v, now, leads)

    def _base_window(self, lo: int, hi: int, cols: np.ndarray) -> np.ndarray:
        """Base (day-ahead model) quantiles in effect for positions ``lo..hi`` [normalized]."""
        nq = len(self.config.quantiles)
        out = np.full((nq, hi - lo + 1, len(cols)), np.nan)
        for now, base in self._base:  # oldest first: newer issues overwrite
            a, b = max(lo, now + 1), min(hi, now + base.shape[1])
            if a <= b:
                out[:, a - lo : b - lo + 1] = base[:, a - now - 1 : b - now, :][:, :, cols]
        return out

    def _issue_base(self, now: int) -> None:
        n_t = self.targets.n_targets
        nq = len(self.config.quantiles)
        base = np.full((nq, 2 * self.spd, n_t), np.nan)
        for g, cols in self.cols.items():
            model = self.models[g]
            assert isinstance(model, QuantileGbm)
            base[:, :, cols] = model.predict_base(self.gv[g], now)
        self._base = [*self._base[-1:], (now, base)]

    def _references(self, now: int, leads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sn = np.empty((len(leads), self.targets.n_targets))
        pe = np.empty_like(sn)
        for g, cols in self.cols.items():
            v = self.gv[g]
            sn[:, cols] = self.sn[g].point(v, now, leads)
            pe[:, cols] = self.pers[g].point(v, now, leads)
        return sn * self.scale, pe * self.scale

    def _seasonal_naive(self, now: int, leads: np.ndarray) -> np.ndarray:
        """The seasonal-naive reference alone [MW], shape (len(leads), n_targets)."""
        sn = np.empty((len(leads), self.targets.n_targets))
        for g, cols in self.cols.items():
            sn[:, cols] = self.sn[g].point(self.gv[g], now, leads)
        return sn * self.scale

    def _issue(self, cadence: str, now: int, leads: np.ndarray) -> Issue:
        q = np.empty((len(self.config.quantiles), len(leads), self.targets.n_targets))
        for g, cols in self.cols.items():
            if isinstance(self.models[g], QuantileGbm) and cadence == "day_ahead":
                full = self._base_window(now + 1, now + int(leads.max()), cols)
                q[:, :, cols] = full[:, leads - 1]
            else:
                q[:, :, cols] = self._predict(g, now, leads)
        mid = self.config.quantiles.index(0.5)
        q = q[mid][None] + self.band[cadence] * (q - q[mid][None])
        if "load" not in self.cols or len(self.cols) > 1:  # generators never below zero
            gen = np.flatnonzero(self.targets.group != GROUPS.index("load"))
            q[:, :, gen] = np.maximum(q[:, :, gen], 0.0)
        sn, pe = self._references(now, leads)
        issue = Issue(cadence, now, leads, q * self.scale, sn, pe)
        self.issues[cadence] = [*self.issues[cadence][-1:], issue]
        self._pending.append(issue)
        return issue

    def _issue_intraday(self, now: int) -> Issue:
        horizon = int(self.config.intraday_horizon or 0)
        return self._issue("intraday", now, np.arange(1, horizon + 1))

    def _issue_day_ahead(self, now: int) -> Issue:
        first = self.spd - int(self.clock.step_of_day(now + 1)) + 1  # lead of next midnight
        return self._issue("day_ahead", now, np.arange(first, first + self.spd))

    # --- stepping ---------------------------------------------------------------------

    def _current(self, pos: int) -> dict[str, np.ndarray]:
        nan = np.full((len(self.config.quantiles), self.targets.n_targets), np.nan)
        out = {}
        for cadence in ("intraday", "day_ahead"):
            q = None
            for issue in reversed(self.issues[cadence]):
                q = issue.at(pos)
                if q is not None:
                    break
            out[cadence] = nan if q is None else q
        return out

    def _pseudo(self, current: dict[str, np.ndarray]) -> PseudoForecast | None:
        q = current["intraday"]
        if not np.isfinite(q).all():
            q = current["day_ahead"]
        if not np.isfinite(q).all():
            return None
        mid = self.config.quantiles.index(0.5)
        mean, sigma = q[mid], (q[-1] - q[0]) / self._z_span
        t = self.targets
        lp, sp = mean[t.load_target] * self.load_share, mean[t.sgen_target] * self.sgen_share
        ls = np.hypot(
            sigma[t.load_target] * self.load_share * self.load_inflation, self.load_share_error
        )
        ss = np.hypot(
            sigma[t.sgen_target] * self.sgen_share * self.sgen_inflation, self.sgen_share_error
        )
        lr, le, sr, se = self.q_per_p
        return PseudoForecast(
            load_p_mw=lp,
            load_sigma_mw=ls,
            sgen_p_mw=sp,
            sgen_sigma_mw=ss,
            load_q_mvar=lr * lp,
            load_q_sigma_mvar=np.hypot(lr * ls, le * self.load_inflation),
            sgen_q_mvar=sr * sp,
            sgen_q_sigma_mvar=np.hypot(sr * ss, se * self.sgen_inflation),
        )

    def step(self, k: int, actual_mw: np.ndarray) -> ForecastStep:
        """Advance to run step ``k``; ``actual_mw`` is step ``k``'s target values [MW].

        Step ``k``'s actuals become known at the end of the step, so they
        enter the history at the next call; the forecasts made here use the
        steps before ``k`` only.
        """
        train_s = 0.0
        pos = self.n_hist + k
        if self._pending_actual is not None:
            self.raw[pos - 1] = self._pending_actual
            self._enter(pos - 1)
            self.now = pos - 1
            now = self.now
            cfg = self.config
            if k > 0 and int(self.clock.step_of_day(pos)) == self.clock.day_ahead_step:
                if now - (self._last_train or -(10**9)) >= cfg.retrain_every:
                    train_s = self._train(now)
                    self.train_s_total += train_s
                if self.learned:
                    self._issue_base(now)
                if cfg.day_ahead_step is not None:
                    self._issue_day_ahead(now)
            if cfg.intraday_every and k > 0 and k % cfg.intraday_every == 0:
                self._issue_intraday(now)
        self._pending_actual = np.asarray(actual_mw, dtype=float)
        current = self._current(pos)
        sn = self._seasonal_naive(pos - 1, np.array([1]))[0]
        completed = self._complete()
        return ForecastStep(
            time_s=k * self.step_s,
            current=current,
            seasonal_naive_mw=sn,
            actual_mw=self._pending_actual,
            pseudo=self._pseudo(current),
            completed=completed,
            train_s=train_s,
        )

    def _enter(self, pos: int) -> None:
        """Write the pending actuals (already in ``raw``) into the normalized buffers."""
        row = self.raw[pos] / self.scale
        self.values[pos] = row
        for g, cols in self.cols.items():
            self.gv[g][pos] = row[cols]

    def _complete(self) -> list[Completed]:
        done, keep = [], []
        for issue in self._pending:
            if int(issue.positions[-1]) <= self.now:
                pos = issue.positions
                daylight = np.ones(len(pos), dtype=bool)
                if self.cs is not None:  # clear sky above zero, or any PV output
                    pv = self.raw[pos][:, self.cols["pv"]]
                    daylight = (self.cs[pos] > 0) | (np.nan_to_num(pv) > 0).any(axis=1)
                done.append(Completed(issue, self.raw[pos], daylight))
                self._adapt(done[-1])
            else:
                keep.append(issue)
        self._pending = keep
        return done

    def _adapt(self, c: Completed) -> None:
        """Adaptive conformal inference: widen the fan when the outer quantiles covered
        less than their nominal share of the (now known) actuals, narrow it when more.

        References
        ----------
        .. [1] I. Gibbs, E. Candès, "Adaptive Conformal Inference Under
           Distribution Shift", NeurIPS 2021.
        """
        levels = self.config.quantiles
        nominal = levels[-1] - levels[0]
        q, a = c.issue.q, c.actual
        rows = np.ones(a.shape, dtype=bool)
        if "pv" in self.cols:
            rows[:, self.cols["pv"]] = c.daylight[:, None]
        if "other" in self.cols:
            rows[:, self.cols["other"]] = False
        ok = rows & np.isfinite(a) & (q[-1] - q[0] > 1e-9)
        if ok.any():
            covered = float(((q[0] <= a) & (a <= q[-1]))[ok].mean())
            band = self.band[c.issue.cadence] * np.exp(ADAPT_RATE * (nominal - covered))
            self.band[c.issue.cadence] = float(np.clip(band, 0.5, 3.0))

    def finish(self) -> list[Completed]:
        """Enter the last step's actuals and return the issues that completes."""
        if self._pending_actual is not None:
            pos = self.now + 1
            self.raw[pos] = self._pending_actual
            self._enter(pos)
            self.now = pos
            self._pending_actual = None
        return self._complete()
