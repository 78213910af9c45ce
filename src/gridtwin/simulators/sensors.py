"""Sensors: from the grid's true state to what the control centre receives (pure; no mosaik).

The measurement plan, its channels and the frames it delivers are defined in
:mod:`gridtwin.measurements`; this module is the physical sensor model that
turns a true :class:`~gridtwin.grid.engine.PowerFlowResult` into frames.

Every scalar gets Gaussian noise with the device class's sigma, drawn from a
seeded generator in a fixed order, so the same seed gives the same readings.
Readings can be lost (dropout), arrive late (latency) and, for smart meters,
be averages over their interval. Bad-data events corrupt delivered readings.

Sigma follows SOGNO's convention: ``accuracy_percent`` is the error bound at
3 sigma in percent of the value, ``sigma = accuracy_percent / 300 * |value|``,
with a floor (``SIGMA_FLOOR``) so that readings near zero keep a finite weight.

References
----------
.. [1] A. Abur, A. G. Expósito, "Power System State Estimation: Theory and
   Implementation", Marcel Dekker, 2004, ch. 2 (measurement model).
.. [2] SOGNO state estimation service, https://sogno-platform.github.io/docs/
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

import numpy as np

from gridtwin.grid.engine import PowerFlowResult
from gridtwin.measurements import (
    CLASS_NAMES,
    SIGMA_FLOOR,
    ChannelKind,
    MeasurementFrame,
    SensorPlan,
    Terminal,
)

__all__ = ["COMMANDED_ACCURACY_PERCENT", "PseudoValues", "SensorModel", "true_values"]

COMMANDED_ACCURACY_PERCENT = 2.0
"""How closely an inverter follows a commanded set-point, at 3 sigma [% of the value]:
the accuracy of a pseudo-measurement taken from the control centre's own command."""


class PseudoValues(Protocol):
    """Mean and sigma per load and sgen that stand in for pseudo-measurements [MW, MVAr].

    :class:`~gridtwin.controllers.forecasting.forecaster.PseudoForecast` is one.
    """

    load_p_mw: np.ndarray
    load_sigma_mw: np.ndarray
    load_q_mvar: np.ndarray
    load_q_sigma_mvar: np.ndarray
    sgen_p_mw: np.ndarray
    sgen_sigma_mw: np.ndarray
    sgen_q_mvar: np.ndarray
    sgen_q_sigma_mvar: np.ndarray


def true_values(plan: SensorPlan, r: PowerFlowResult) -> np.ndarray:
    """The exact value of every scalar in the true state ``r`` [pu, degree, MW, MVAr]."""
    ch = plan.sc_channel
    kind, term, pos = plan.ch_kind[ch], plan.ch_terminal[ch], plan.ch_pos[ch]
    comp = plan.sc_component
    out = np.zeros(plan.n_scalars)
    v = kind == ChannelKind.VOLTAGE
    out[v & (comp == 0)] = r.bus_vm_pu[pos[v & (comp == 0)]]
    out[v & (comp == 1)] = r.bus_va_degree[pos[v & (comp == 1)]]
    sources = {
        Terminal.LINE_FROM: (r.line_p_from_mw, r.line_q_from_mvar),
        Terminal.LINE_TO: (r.line_p_to_mw, r.line_q_to_mvar),
        Terminal.TRAFO_HV: (r.trafo_p_hv_mw, r.trafo_q_hv_mvar),
        Terminal.TRAFO_LV: (r.trafo_p_lv_mw, r.trafo_q_lv_mvar),
        Terminal.LOAD: (r.load_p_mw, r.load_q_mvar),
        Terminal.SGEN: (r.sgen_p_mw, r.sgen_q_mvar),
    }
    for t, (p, q) in sources.items():
        for k, arr in ((0, p), (1, q)):
            m = (~v) & (term == t) & (comp == k)
            if m.any():
                out[m] = arr[pos[m]]
    return out


class SensorModel:
    """Turns true states into measurement frames, step by step.

    Parameters
    ----------
    plan : SensorPlan
        The resolved plan.
    step_s : int
        Simulation step [s].
    seed : int
        Noise seed.
    """

    def __init__(self, plan: SensorPlan, step_s: int, seed: int) -> None:
        self.plan = plan
        self.step_s = step_s
        self.rng = np.random.default_rng(seed)
        ch_cls = [CLASS_NAMES[c] for c in plan.ch_class[plan.sc_channel]]
        params = [plan.classes[c] for c in ch_cls]
        n = plan.n_scalars
        self.rel_sigma = np.array([p.accuracy_percent / 300.0 for p in params])
        self.abs_sigma = np.array([np.nan if p.sigma_abs is None else p.sigma_abs for p in params])
        is_v = plan.ch_kind[plan.sc_channel] == ChannelKind.VOLTAGE
        angle = is_v & (plan.sc_component == 1)
        # an angle's sigma [degree] is the magnitude's relative sigma in radians
        self.angle = angle
        self.floor = np.where(is_v, SIGMA_FLOOR["voltage"], SIGMA_FLOOR["power"])
        self.dropout = np.array([p.dropout_probability for p in params])
        self.latency_steps = np.array([-(-p.latency_s // step_s) for p in params], dtype=np.int64)
        self.interval_steps = np.array(
            [max(1, p.interval_s // step_s) if p.interval_s else 1 for p in params], dtype=np.int64
        )
        self._max_lag = int((self.latency_steps + self.interval_steps).max(initial=1)) + 1
        self._truth: deque[np.ndarray] = deque(maxlen=self._max_lag)
        self._readings: deque[tuple[np.ndarray, np.ndarray, np.ndarray]] = deque(
            maxlen=self._max_lag
        )
        self._held_value = np.full(n, np.nan)
        self._held_sigma = np.full(n, np.nan)
        self._held_ok = np.zeros(n, dtype=bool)
        self.bad: dict[int, tuple[str, float, float]] = {}  # scalar -> (mode, k_sigma, stuck value)
        sc_term = plan.ch_terminal[plan.sc_channel]
        pseudo = (plan.ch_class[plan.sc_channel] == CLASS_NAMES.index("pseudo")) & ~is_v
        self._pseudo = {
            t: np.flatnonzero(pseudo & (sc_term == t)) for t in (Terminal.LOAD, Terminal.SGEN)
        }
        self._step = 0

    def sigma_of(self, value: np.ndarray) -> np.ndarray:
        """Standard deviation of each scalar for readings ``value`` [unit of the scalar]."""
        rel = np.maximum(self.rel_sigma * np.abs(value), self.floor)
        sigma = np.where(np.isnan(self.abs_sigma), rel, self.abs_sigma)
        return np.where(self.angle, np.degrees(self.rel_sigma), sigma)

    def measure(
        self,
        time_s: int,
        truth: PowerFlowResult,
        forecast: PseudoValues | None = None,
        commanded: object | None = None,
    ) -> MeasurementFrame:
        """The frame delivered at ``time_s`` given the true state at ``time_s``.

        Without ``forecast``, pseudo-measurements stand in for a forecast: the
        true value plus noise with the class's sigma. With ``forecast`` (a
        :class:`~gridtwin.controllers.forecasting.forecaster.PseudoForecast`
        for this step), a load's or sgen's pseudo P and Q are the forecast's
        mean and sigma. The noise draws are the same either way, so every
        other reading is too.

        ``commanded`` (an object with ``q_set_mvar`` and ``p_limit_mw`` per
        sgen, e.g. the voltage controller's
        :class:`~gridtwin.controllers.voltage.controller.VoltageCommands` in
        effect at ``time_s``; NaN = no Q set-point, inf = no limit) is what the
        control centre itself commanded: an sgen's pseudo Q is its Q set-point
        and its pseudo P at most its P limit (:meth:`_from_commands`).
        """
        plan = self.plan
        exact = true_values(plan, truth)
        energized = self._energized(truth)
        self._truth.append(exact)
        k = self._step
        window = np.asarray(self._truth)
        # averages over each scalar's interval (interval 1 = instantaneous)
        csum = np.cumsum(window[::-1], axis=0)
        depth = np.minimum(self.interval_steps, len(window))
        taken = csum[depth - 1, np.arange(plan.n_scalars)] / depth
        sigma = self.sigma_of(taken)
        noise = self.rng.standard_normal(plan.n_scalars)
        lost = self.rng.random(plan.n_scalars) < self.dropout
        reading = taken + sigma * noise
        if forecast is not None:
            self._from_forecast(forecast, reading, sigma)
        if commanded is not None:
            self._from_commands(commanded, reading, sigma)
        on_boundary = (k % self.interval_steps) == 0
        ok = energized & ~lost & on_boundary & np.isfinite(reading)
        self._readings.append((reading, sigma, ok))
        # delivery: the reading taken latency steps ago
        value = self._held_value
        lag = self.latency_steps
        for lag_k in np.unique(lag):
            if lag_k < len(self._readings):
                rv, rs, rok = self._readings[-1 - lag_k]
                m = (lag == lag_k) & rok
                value[m], self._held_sigma[m] = rv[m], rs[m]
                self._held_ok[m] = True
                fresh = (lag == lag_k) & ~rok & (self.interval_steps == 1)
                self._held_ok[fresh] = False  # instantaneous readings are not held when lost
        self._step += 1
        t_ch = (plan.ch_active_from_s <= time_s) & (time_s < plan.ch_active_until_s)
        valid = self._held_ok & t_ch[plan.sc_channel] & energized
        out_value = value.copy()
        corrupted = np.zeros(plan.n_scalars, dtype=bool)
        for i, (mode, k_sigma, stuck) in self.bad.items():
            if mode == "silent":  # measurement_outage: no reading arrives
                valid[i] = False
                continue
            corrupted[i] = True
            if mode == "gross":
                out_value[i] = value[i] + k_sigma * self._held_sigma[i]
            elif mode == "stuck":
                out_value[i] = stuck
            else:
                out_value[i] = -value[i]
        return MeasurementFrame(time_s, out_value, self._held_sigma.copy(), valid, corrupted)

    def _from_forecast(
        self, forecast: PseudoValues, reading: np.ndarray, sigma: np.ndarray
    ) -> None:
        """Overwrite the pseudo-measurements of loads and sgens with the forecast (in place)."""
        plan = self.plan
        f = forecast
        sources = {
            Terminal.LOAD: (f.load_p_mw, f.load_sigma_mw, f.load_q_mvar, f.load_q_sigma_mvar),
            Terminal.SGEN: (f.sgen_p_mw, f.sgen_sigma_mw, f.sgen_q_mvar, f.sgen_q_sigma_mvar),
        }
        for term, idx in self._pseudo.items():
            if not len(idx):
                continue
            p, sp, q, sq = sources[term]
            pos = plan.ch_pos[plan.sc_channel[idx]]
            is_p = plan.sc_component[idx] == 0
            value = np.where(is_p, p[pos], q[pos])
            sig = np.where(is_p, sp[pos], sq[pos])
            ok = np.isfinite(value) & np.isfinite(sig)
            reading[idx[ok]] = value[ok]
            sigma[idx[ok]] = np.maximum(sig[ok], SIGMA_FLOOR["power"])

    def _from_commands(self, commanded: object, reading: np.ndarray, sigma: np.ndarray) -> None:
        """Overwrite sgen pseudo-measurements with the commanded set-points (in place).

        A unit with a Q set-point delivers it: pseudo Q = the set-point, sigma
        :data:`COMMANDED_ACCURACY_PERCENT`. A unit with a P limit delivers at
        most the limit: pseudo P = min(pseudo P, limit); where even the lower
        3-sigma end of the pseudo P lies above the limit, the unit is surely
        curtailed, and the sigma becomes the set-point's.
        """
        idx = self._pseudo[Terminal.SGEN]
        if not len(idx):
            return
        c: Any = commanded
        q_set = np.asarray(c.q_set_mvar, dtype=float)
        p_lim = np.asarray(c.p_limit_mw, dtype=float)
        pos = self.plan.ch_pos[self.plan.sc_channel[idx]]
        is_p = self.plan.sc_component[idx] == 0
        rel = COMMANDED_ACCURACY_PERCENT / 300.0
        q_idx, q_pos = idx[~is_p], pos[~is_p]
        has_q = np.isfinite(q_set[q_pos])
        q = q_set[q_pos[has_q]]
        reading[q_idx[has_q]] = q
        sigma[q_idx[has_q]] = np.maximum(rel * np.abs(q), SIGMA_FLOOR["power"])
        p_idx, p_pos = idx[is_p], pos[is_p]
        limit = p_lim[p_pos]
        has_p = np.isfinite(limit)
        p_idx, limit = p_idx[has_p], limit[has_p]
        sure = reading[p_idx] - 3.0 * sigma[p_idx] >= limit
        reading[p_idx] = np.minimum(reading[p_idx], limit)
        sigma[p_idx[sure]] = np.maximum(rel * np.abs(limit[sure]), SIGMA_FLOOR["power"])

    def _energized(self, truth: PowerFlowResult) -> np.ndarray:
        """Readings from a dead bus or branch end never arrive (no RTU supply)."""
        plan = self.plan
        if not truth.converged:
            return np.zeros(plan.n_scalars, dtype=bool)
        ch_ok = np.ones(plan.n_channels, dtype=bool)
        v = plan.ch_kind == ChannelKind.VOLTAGE
        ch_ok[v] = truth.bus_energized[plan.ch_pos[v]]
        return ch_ok[plan.sc_channel]

    def inject(self, scalar: int, mode: str, k_sigma: float = 0.0) -> None:
        """Start a bad-data event on ``scalar``: ``gross`` (k sigma), ``stuck`` or ``sign_flip``."""
        self.bad[scalar] = (mode, k_sigma, float(self._held_value[scalar]))

    def clear(self, scalar: int) -> None:
        """End a bad-data event on ``scalar``."""
        self.bad.pop(scalar, None)
