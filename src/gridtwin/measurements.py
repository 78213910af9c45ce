"""Measurement plan, channels and frames: what a control centre measures (bottom layer).

A measurement plan (from the scenario) is resolved once against the network
into *channels*; a channel is one physical reading with one or two scalars:

- ``voltage``: bus voltage magnitude [pu] (and, for a PMU, its angle [degree]);
- ``power``: active and reactive power [MW], [MVAr] at a terminal: a line or
  transformer end (positive into the branch) or a load / sgen (the element's
  own direction: consumption positive for loads, generation for sgens).

A :class:`MeasurementFrame` is what the control centre has at one instant: a
value, a sigma and a validity flag per scalar. The sensor model that produces
frames from the true state lives in :mod:`gridtwin.simulators.sensors`; the
estimator, the scenario checks and the KPIs need only this module.

Accuracy convention (SOGNO's): ``accuracy_percent`` is the error bound at
3 sigma in percent of the value, ``sigma = accuracy_percent / 300 * |value|``,
with a floor (:data:`SIGMA_FLOOR`) so that readings near zero keep a finite
weight.

This module imports nothing from gridtwin above :mod:`gridtwin.grid`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from gridtwin.grid.topology import element_names, resolve_target

if TYPE_CHECKING:
    import pandapower as pp

__all__ = [
    "CLASS_NAMES",
    "DEFAULT_CLASSES",
    "SIGMA_FLOOR",
    "ChannelKind",
    "ClassParams",
    "MeasurementFrame",
    "MeasurementsLike",
    "PlanEntryLike",
    "SensorPlan",
    "Terminal",
    "feeder_heads",
    "resolve_plan",
    "substation_buses",
]


class PlanEntryLike(Protocol):
    """One plan entry as the scenario's ``measurements.plan`` gives it."""

    @property
    def device(self) -> str: ...

    @property
    def at(self) -> str: ...

    @property
    def n(self) -> int: ...

    @property
    def share(self) -> float: ...

    @property
    def element(self) -> str | None: ...

    @property
    def names(self) -> Sequence[str | int]: ...

    @property
    def active_from(self) -> int: ...

    @property
    def active_until(self) -> int | None: ...


class MeasurementsLike(Protocol):
    """The scenario's ``measurements`` section, as far as :func:`resolve_plan` reads it.

    ``classes`` maps a device class name to an object whose non-None
    attributes named as :class:`ClassParams`'s fields override the defaults.
    """

    @property
    def classes(self) -> Mapping[Any, object]: ...

    @property
    def plan(self) -> Sequence[PlanEntryLike]: ...


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


def substation_buses(net: pp.pandapowerNet) -> np.ndarray:
    """Positions of the substation busbars: transformer LV buses, else external-grid buses."""
    labels = net.trafo["lv_bus"] if len(net.trafo) else net.ext_grid["bus"]
    return np.unique(net.bus.index.get_indexer(labels))


def feeder_heads(net: pp.pandapowerNet) -> tuple[np.ndarray, np.ndarray]:
    """(line positions, terminal) of the lines that leave a substation busbar."""
    subs = net.bus.index[substation_buses(net)]
    from_sub = net.line["from_bus"].isin(subs).to_numpy()
    to_sub = net.line["to_bus"].isin(subs).to_numpy() & ~from_sub
    pos = np.flatnonzero(from_sub | to_sub)
    terminal = np.where(from_sub[pos], Terminal.LINE_FROM, Terminal.LINE_TO)
    return pos, terminal


def _resolve_names(net: pp.pandapowerNet, table: str, names: Sequence[str | int]) -> np.ndarray:
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


def resolve_plan(
    net: pp.pandapowerNet, measurements: MeasurementsLike, *, seed: int = 0
) -> SensorPlan:
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
    classes = _resolve_classes(measurements.classes)
    b = _Builder(net)
    rng = np.random.default_rng(seed)
    never = np.iinfo(np.int64).max
    metered: dict[str, set[int]] = {"load": set(), "sgen": set()}
    rest_entries = []
    for i, entry in enumerate(measurements.plan):
        cls = CLASS_NAMES.index(str(entry.device))
        span = (int(entry.active_from), int(entry.active_until or never))
        if entry.at == "rest":
            rest_entries.append((cls, span))
            continue
        try:
            _place(b, entry, cls, span, rng, metered)
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


def _resolve_classes(given_classes: Mapping[Any, object]) -> dict[str, ClassParams]:
    """The default device classes with the scenario's non-None settings on top."""
    classes = dict(DEFAULT_CLASSES)
    for name, spec in given_classes.items():
        base = classes[str(name)]
        given = {
            k: getattr(spec, k) for k in ClassParams.__slots__ if getattr(spec, k, None) is not None
        }
        if "accuracy_percent" in given and "sigma_abs" not in given:
            given["sigma_abs"] = None
        classes[str(name)] = ClassParams(**{**_as_dict(base), **given})
    return classes


def _place(
    b: _Builder,
    entry: PlanEntryLike,
    cls: int,
    span: tuple[int, int],
    rng: np.random.Generator,
    metered: dict[str, set[int]],
) -> None:
    """Add the channels of one plan entry (not ``rest``); raises LookupError."""
    net = b.net
    pmu = entry.device == "pmu"
    if entry.at == "substation":
        b.voltage(cls, substation_buses(net), pmu, span)
        if len(net.trafo):
            b.power(cls, Terminal.TRAFO_LV, np.arange(len(net.trafo)), span)
    elif entry.at == "feeder_heads":
        pos, heads_term = feeder_heads(net)
        b.power(cls, heads_term, pos, span)
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
    else:  # names (the scenario guarantees element and names)
        element = str(entry.element)
        pos = _resolve_names(net, element, entry.names)
        if element == "bus":
            b.voltage(cls, pos, pmu, span)
        elif element == "line":
            b.power(cls, Terminal.LINE_FROM, pos, span)
        else:
            kind = Terminal.LOAD if element == "load" else Terminal.SGEN
            b.power(cls, kind, pos, span)
            metered[element].update(pos.tolist())


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
    col: list[Sequence[object]] = list(zip(*rows, strict=True)) if rows else [[]] * 8
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
