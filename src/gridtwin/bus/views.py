"""The published views: which values go into each message, in which format (pure).

A :class:`View` is one topic group (measurements, estimates, status): the
names of its values (its VILLASnode signal list) and, for SOGNO, each value's
device, component and measurand. :meth:`View.encode` turns one step's values
(NaN = not available) into the payloads of the topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gridtwin.bus.payloads import Reading, signal_list, sogno_encode, villas_encode

__all__ = [
    "CADENCES",
    "MEASURANDS",
    "View",
    "estimate_view",
    "forecast_view",
    "measurement_view",
    "status_view",
]

CADENCES = ("intraday", "day_ahead")
"""The forecast cadences, in the order their values are published."""

MEASURANDS: dict[str, tuple[str, str]] = {
    "vm_pu": ("voltmagnitude", "pu"),
    "va_degree": ("voltangle", "deg"),
    "p_mw": ("activepower", "MW"),
    "q_mvar": ("reactivepower", "MVAr"),
    "switch_closed": ("switchclosed", "-"),
    "trafo_tap_pos": ("tapposition", "-"),
}
"""gridtwin quantity -> (SOGNO measurand, unit)."""

PHASE = "A"
"""The phase a balanced (positive-sequence) value is reported on."""


@dataclass(frozen=True, slots=True)
class View:
    """One topic group: its signals and how they map onto SOGNO readings.

    Attributes
    ----------
    topic : str
        The topic the values are published on.
    names : list of str
        The signal names (``<device>:<quantity>:<element>``), in value order.
    fmt : str
        ``villas`` or ``sogno``.
    """

    topic: str
    names: list[str]
    fmt: str

    @property
    def parts(self) -> list[tuple[str, str, str]]:
        """(device, quantity, element) of each signal."""
        out = []
        for name in self.names:
            device, quantity, element = name.split(":", 2)
            out.append((device, quantity, element))
        return out

    def signals(self) -> bytes:
        """The VILLASnode signal list of the topic."""
        units = [_unit(q) for _, q, _ in self.parts]
        return signal_list(self.names, units)

    def encode(self, ts_s: float, sequence: int, values: np.ndarray) -> list[bytes]:
        """The payloads of one step (VILLASnode: one; SOGNO: one per device)."""
        if self.fmt == "villas":
            return [villas_encode(ts_s, sequence, values.tolist())]
        readings: dict[str, list[Reading]] = {}
        for (device, quantity, element), value in zip(self.parts, values.tolist(), strict=True):
            measurand = MEASURANDS.get(quantity, (quantity, ""))[0]
            readings.setdefault(device, []).append(Reading(element, measurand, PHASE, value))
        return [sogno_encode(device, ts_s, rs) for device, rs in readings.items()]


def _unit(quantity: str) -> str:
    if quantity in MEASURANDS:
        return MEASURANDS[quantity][1]
    return "MW" if quantity.endswith("_mw") else "-"


def measurement_view(topic: str, names: Sequence[str], fmt: str) -> View:
    """The measurement frame: every scalar of the plan (``scada:vm_pu:Bus 5``, ...)."""
    return View(topic, list(names), fmt)


def estimate_view(topic: str, buses: Sequence[str], fmt: str) -> View:
    """The state estimate: ``estimate:vm_pu:<bus>`` then ``estimate:va_degree:<bus>``."""
    names = [f"estimate:vm_pu:{b}" for b in buses] + [f"estimate:va_degree:{b}" for b in buses]
    return View(topic, names, fmt)


def status_view(topic: str, switches: Sequence[str], trafos: Sequence[str], fmt: str) -> View:
    """Reported positions: ``scada:switch_closed:<s>`` (1 closed), ``scada:trafo_tap_pos:<t>``."""
    names = [f"scada:switch_closed:{s}" for s in switches]
    names += [f"scada:trafo_tap_pos:{t}" for t in trafos]
    return View(topic, names, fmt)


def forecast_view(topic: str, targets: Sequence[str], quantiles: Sequence[float], fmt: str) -> View:
    """Forecasts in effect for the step: ``forecast:<cadence>_p<q>_mw:<target>``.

    Ordered by cadence (intraday, day-ahead), then quantile, then target [MW];
    NaN (null) before a cadence's first issue covers the step.
    """
    names = [
        f"forecast:{cadence}_p{round(100 * q)}_mw:{target}"
        for cadence in CADENCES
        for q in quantiles
        for target in targets
    ]
    return View(topic, names, fmt)
