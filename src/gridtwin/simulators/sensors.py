"""Sensors: from the grid's true state to what the control centre receives (pure; no mosaik).

A measurement plan (from the scenario) is resolved once against the network
into *channels*; a channel is one physical reading with one or two scalars:

- ``voltage``: bus voltage magnitude [pu] (and, for a PMU, its angle [degree]);
- ``power``: active and reactive power [MW], [MVAr] at a terminal: a line or
  transformer end (positive into the branch) or a load / sgen (the element's
  own direction: consumption positive for loads, generation for sgens).

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
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import pandapower as pp

from gridtwin.grid.engine import PowerFlowResult
from gridtwin.grid.topology import element_names

__all__ = [
    "COMMANDED_ACCURACY_PERCENT",
    "DEFAULT_CLASSES",
    "SIGMA_FLOOR",
    "ChannelKind",
    "ClassParams",
    "MeasurementFrame",
    "SensorModel",
    "SensorPlan",
    "Terminal",
    "resolve_plan",
]


class ChannelKind(IntEnum):
    """What a channel reads."""

    VOLTAGE = 0
    POWER = 1


class Terminal(IntEnum):
    """Where a power channel sits."""

    LINE_FROM = 0
    LINE_TO = 1
    TRAFO_HV = 2
    TRAFO_LV = 3
    LOAD = 4
    SGEN = 5


@dataclass(frozen=True, slots=True)
class ClassParams:
    """Resolved parameters of one device class.

    Attributes
    ----------
    accuracy_percent : float
        Error bound at 3 sigma [% of the value].
    sigma_abs : float or None
        Absolute sigma [pu or MW/MVAr]; overrides ``accuracy_percent``.
    dropout_probability : float
        Chance per step that a reading is lost [-].
    latency_s : int
        Delay between taking and delivering a reading [s].
    interval_s : int
        Averaging interval; 0 = instantaneous [s].
    """

    accuracy_percent: float
    sigma_abs: float | None = None
    dropout_probability: float = 0.0
    latency_s: int = 0
    interval_s: int = 0


DEFAULT_CLASSES: dict[str, ClassParams] = {
    "scada": ClassParams(accuracy_percent=1.0),
    "pmu": ClassParams(accuracy_percent=0.1),
    "smart_meter": ClassParams(accuracy_percent=2.0, interval_s=900),
    "pseudo": ClassParams(accuracy_percent=50.0),
}
"""Defaults per class: SCADA 1 %, PMU 0.1 % (magnitude; angle sigma = the same
relative sigma in radians), smart meters 2 % averaged over 15 min, pseudo 50 %
(all at 3 sigma), no dropouts, no latency."""

SIGMA_FLOOR = {"voltage": 1e-4, "power": 1e-4}
"""Smallest sigma from ``accuracy_percent`` [pu] for voltages and [MW, MVAr] for powers."""

CLASS_NAMES = ("scada", "pmu", "smart_meter", "pseudo")

COMMANDED_ACCURACY_PERCENT = 2.0
"""How closely an inverter follows a commanded set-point, at 3 sigma [% of the value]:
the accuracy of a pseudo-measurement taken from the control centre's own command."""


@dataclass(slots=True)
class SensorPlan:
    """A measurement plan resolved to channels and scalars (positions, not labels).

    Channel arrays have one entry per channel; scalar arrays one per scalar
    (a power channel has a P and a Q scalar, a voltage channel a magnitude and,
    for a PMU, an angle).
    """

    ch_kind: np.ndarray  # ChannelKind
    ch_class: np.ndarray  # index into CLASS_NAMES
    ch_terminal: np.ndarray  # Terminal for power channels, -1 for voltage
    ch_pos: np.ndarray  # bus / line / trafo / load / sgen position
    ch_has_angle: np.ndarray  # bool, voltage phasor
    ch_active_from_s: np.ndarray
    ch_active_until_s: np.ndarray  # int64, large = forever
    ch_fallback_only: np.ndarray  # pseudo channels used only when real meters are missing
    ch_name: list[str]
    sc_channel: np.ndarray  # channel of each scalar
    sc_component: np.ndarray  # 0 = magnitude / P, 1 = angle / Q
    sc_name: list[str]
    classes: dict[str, ClassParams] = field(default_factory=dict)

    @property
    def n_channels(self) -> int:
        return len(self.ch_kind)

    @property
    def n_scalars(self) -> int:
        return len(self.sc_channel)

    def scalar_index(self, name: str) -> int:
        """Position of the scalar called ``name``; raises LookupError."""
        try:
            return self.sc_name.index(name)
        except ValueError:
            import difflib

            hint = difflib.get_close_matches(name, self.sc_name, n=1)
            raise LookupError(
                f"got {name!r}; no measurement of that name"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + "; expected '<device>:<quantity>:<element>' as listed by gridtwin show"
            ) from None


@dataclass(slots=True)
class MeasurementFrame:
    """What the control centre has at one instant.

    Attributes
    ----------
    value, sigma : ndarray
        Per scalar: the reading [pu, degree, MW, MVAr] and its sigma (same unit).
    valid : ndarray of bool
        Per scalar: a reading is available (delivered, not lost, plan active).
    corrupted : ndarray of bool
        Per scalar: a bad-data event is active (testbed knowledge; the
        estimator must not read it).
    """

    time_s: int
    value: np.ndarray
    sigma: np.ndarray
    valid: np.ndarray
    corrupted: np.ndarray


def _substation_buses(net: pp.pandapowerNet) -> np.ndarray:
    """Positions of the substation busbars: transformer LV buses, else external-grid buses."""
    labels = net.trafo["lv_bus"] if len(net.trafo) else net.ext_grid["bus"]
    return np.unique(net.bus.index.get_indexer(labels))


def _feeder_heads(net: pp.pandapowerNet) -> tuple[np.ndarray, np.ndarray]:
    """(line positions, terminal) of the lines that leave a substation busbar."""
    subs = net.bus.index[_substation_buses(net)]
    from_sub = net.line["from_bus"].isin(subs).to_numpy()
    to_sub = net.line["to_bus"].isin(subs).to_numpy() & ~from_sub
    pos = np.flatnonzero(from_sub | to_sub)
    terminal = np.where(from_sub[pos], Terminal.LINE_FROM, Terminal.LINE_TO)
    return pos, terminal


def _resolve_names(net: pp.pandapowerNet, table: str, names: list[str | int]) -> np.ndarray:
    from gridtwin.events import resolve_target

    return np.concatenate([resolve_target(net, table, n) for n in names]).astype(np.int64)


class _Builder:
    def __init__(self, net: pp.pandapowerNet) -> None:
        self.net = net
        self.names = {t: element_names(net, t) for t in ("bus", "line", "trafo", "load", "sgen")}
        self.rows: list[tuple] = []

    def voltage(self, cls: int, buses: np.ndarray, angle: bool, span: tuple[int, int]) -> None:
        for b in buses:
            self.rows.append((ChannelKind.VOLTAGE, cls, -1, int(b), angle, *span, False))

    def power(
        self,
        cls: int,
        terminal: np.ndarray | int,
        pos: np.ndarray,
        span: tuple[int, int],
        fallback: bool = False,
    ) -> None:
        terms = np.broadcast_to(np.asarray(terminal), pos.shape)
        for t, p in zip(terms, pos, strict=True):
            self.rows.append((ChannelKind.POWER, cls, int(t), int(p), False, *span, fallback))

    def channel_name(self, row: tuple) -> tuple[str, list[str]]:
        kind, cls, term, pos, angle = row[:5]
        device = CLASS_NAMES[cls]
        if kind == ChannelKind.VOLTAGE:
            el = self.names["bus"][pos]
            return f"{device}:v:{el}", [f"{device}:vm_pu:{el}"] + (
                [f"{device}:va_degree:{el}"] if angle else []
            )
        table, suffix = {
            Terminal.LINE_FROM: ("line", "@from"),
            Terminal.LINE_TO: ("line", "@to"),
            Terminal.TRAFO_HV: ("trafo", "@hv"),
            Terminal.TRAFO_LV: ("trafo", "@lv"),
            Terminal.LOAD: ("load", ""),
            Terminal.SGEN: ("sgen", ""),
        }[Terminal(term)]
        el = self.names[table][pos] + suffix
        return f"{device}:pq:{el}", [f"{device}:p_mw:{el}", f"{device}:q_mvar:{el}"]


def resolve_plan(net: pp.pandapowerNet, measurements: object, *, seed: int = 0) -> SensorPlan:
    """Resolve a scenario's measurement plan against ``net``.

    Parameters
    ----------
    net : pandapowerNet
        The normalized network.
    measurements : MeasurementsSpec
        The scenario's ``measurements`` section.
    seed : int
        Seed for the random choice of ``share`` entries.

    Raises
    ------
    LookupError
        ``(entry index, message)`` as args when a plan entry names an element
        that does not exist.
    """
    classes = dict(DEFAULT_CLASSES)
    for name, spec in measurements.classes.items():  # type: ignore[attr-defined]
        base = classes[str(name)]
        given = {
            k: getattr(spec, k) for k in type(spec).model_fields if getattr(spec, k) is not None
        }
        if "accuracy_percent" in given and "sigma_abs" not in given:
            given["sigma_abs"] = None
        classes[str(name)] = ClassParams(**{**_as_dict(base), **given})
    b = _Builder(net)
    rng = np.random.default_rng(seed)
    never = np.iinfo(np.int64).max
    metered: dict[str, set[int]] = {"load": set(), "sgen": set()}
    rest_entries = []
    for i, entry in enumerate(measurements.plan):  # type: ignore[attr-defined]
        cls = CLASS_NAMES.index(str(entry.device))
        span = (int(entry.active_from), int(entry.active_until or never))
        pmu = entry.device == "pmu"
        try:
            if entry.at == "substation":
                b.voltage(cls, _substation_buses(net), pmu, span)
                if len(net.trafo):
                    b.power(cls, Terminal.TRAFO_LV, np.arange(len(net.trafo)), span)
            elif entry.at == "feeder_heads":
                pos, term = _feeder_heads(net)
                b.power(cls, term, pos, span)
            elif entry.at in ("all_buses", "every_nth_bus"):
                step = entry.n if entry.at == "every_nth_bus" else 1
                b.voltage(cls, np.arange(0, len(net.bus), step), pmu, span)
            elif entry.at in ("loads", "sgens"):
                table = entry.at[:-1]
                n = len(net[table])
                k = round(entry.share * n)
                pos = np.sort(rng.choice(n, size=k, replace=False)) if k < n else np.arange(n)
                b.power(cls, Terminal.LOAD if table == "load" else Terminal.SGEN, pos, span)
                metered[table].update(pos.tolist())
            elif entry.at == "rest":
                rest_entries.append((cls, span))
            else:  # names
                pos = _resolve_names(net, entry.element, entry.names)
                if entry.element == "bus":
                    b.voltage(cls, pos, pmu, span)
                elif entry.element == "line":
                    b.power(cls, Terminal.LINE_FROM, pos, span)
                else:
                    term = Terminal.LOAD if entry.element == "load" else Terminal.SGEN
                    b.power(cls, term, pos, span)
                    metered[entry.element].update(pos.tolist())
        except LookupError as exc:
            raise LookupError(i, str(exc)) from None
    for cls, span in rest_entries:  # pseudo for every appliance; fallback where metered
        for table, term in (("load", Terminal.LOAD), ("sgen", Terminal.SGEN)):
            n = len(net[table])
            pos = np.arange(n)
            has = np.isin(pos, list(metered[table]))
            b.power(cls, term, pos[~has], span)
            b.power(cls, term, pos[has], span, fallback=True)
    return _finish(b, classes)


def _as_dict(p: ClassParams) -> dict:
    return {k: getattr(p, k) for k in ClassParams.__slots__}


def _finish(b: _Builder, classes: dict[str, ClassParams]) -> SensorPlan:
    rows = b.rows
    ch_name, sc_channel, sc_component, sc_name = [], [], [], []
    for c, row in enumerate(rows):
        name, scalars = b.channel_name(row)
        ch_name.append(name)
        for k, s in enumerate(scalars):
            sc_channel.append(c)
            sc_component.append(k)
            sc_name.append(s)
    col = list(zip(*rows, strict=True)) if rows else [[]] * 8
    return SensorPlan(
        ch_kind=np.asarray(col[0], dtype=np.int8),
        ch_class=np.asarray(col[1], dtype=np.int8),
        ch_terminal=np.asarray(col[2], dtype=np.int8),
        ch_pos=np.asarray(col[3], dtype=np.int64),
        ch_has_angle=np.asarray(col[4], dtype=bool),
        ch_active_from_s=np.asarray(col[5], dtype=np.int64),
        ch_active_until_s=np.asarray(col[6], dtype=np.int64),
        ch_fallback_only=np.asarray(col[7], dtype=bool),
        ch_name=ch_name,
        sc_channel=np.asarray(sc_channel, dtype=np.int64),
        sc_component=np.asarray(sc_component, dtype=np.int8),
        sc_name=sc_name,
        classes=classes,
    )


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
        forecast: object | None = None,
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

    def _from_forecast(self, forecast: object, reading: np.ndarray, sigma: np.ndarray) -> None:
        """Overwrite the pseudo-measurements of loads and sgens with the forecast (in place)."""
        plan = self.plan
        f: Any = forecast
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
