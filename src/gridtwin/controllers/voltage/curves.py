"""Local DER control curves: Q(U) (volt-var) and P(U) (volt-watt), pure and vectorized.

A curve is piecewise linear through its points and flat beyond the first and
the last point. Reactive power is in per unit of the unit's rated apparent
power (positive = injecting, capacitive: raises the voltage); active power
limits are in per unit of rated power.

References
----------
.. [1] IEEE Std 1547-2018, "Standard for Interconnection and Interoperability
   of Distributed Energy Resources with Associated Electric Power Systems
   Interfaces", Table 8 (volt-var, category B defaults) and Table 10
   (volt-watt defaults).
.. [2] VDE-AR-N 4110:2018-11, "Technical requirements for the connection and
   operation of customer installations to the medium voltage network",
   section 10.2.2.4 (Q(U) characteristic).
.. [3] VDE-AR-N 4105:2018-11, "Generators connected to the low-voltage
   distribution network", section 5.7.2.4 (Q(U)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PRESETS", "Curve", "first_order"]


@dataclass(frozen=True, slots=True)
class Curve:
    """A piecewise-linear characteristic y(v).

    Attributes
    ----------
    v_pu : tuple of float
        Voltages of the points, strictly increasing [pu].
    y_pu : tuple of float
        Values at the points, non-increasing (a voltage rise never asks for
        more injection) [pu of rating].
    """

    v_pu: tuple[float, ...]
    y_pu: tuple[float, ...]

    def __post_init__(self) -> None:
        v, y = np.asarray(self.v_pu, float), np.asarray(self.y_pu, float)
        if v.size < 2 or v.size != y.size:
            raise ValueError("expected at least two points and as many values as voltages")
        if not np.all(np.diff(v) > 0):
            raise ValueError(f"voltages {list(self.v_pu)} are not strictly increasing")
        if not np.all(np.diff(y) <= 0):
            raise ValueError(
                f"values {list(self.y_pu)} are not non-increasing (the curve must not "
                "ask for more injection as the voltage rises)"
            )

    def __call__(self, v_pu: np.ndarray) -> np.ndarray:
        """The curve's value at each voltage ``v_pu`` [pu of rating]."""
        return np.interp(v_pu, self.v_pu, self.y_pu)


PRESETS: dict[str, dict[str, Curve]] = {
    "ieee1547_b": {
        # volt-var category B: V1..V4 = 0.92, 0.98, 1.02, 1.08; Q1 = +44 %, Q4 = -44 %
        "q_u": Curve((0.92, 0.98, 1.02, 1.08), (0.44, 0.0, 0.0, -0.44)),
        # volt-watt: full power up to 1.06 pu, down to 20 % (P2 for category B) at 1.10 pu
        "p_u": Curve((1.06, 1.10), (1.0, 0.2)),
    },
    "vde4110": {
        # MV Q(U): +/- 0.33 (cos phi 0.95) at 0.93 / 1.07 Uc, dead band 0.99..1.01
        "q_u": Curve((0.93, 0.99, 1.01, 1.07), (0.33, 0.0, 0.0, -0.33)),
        "p_u": Curve((1.06, 1.10), (1.0, 0.2)),
    },
    "vde4105": {
        # LV Q(U): cos phi 0.90 (Q = 0.436) at 0.93 / 1.07 Un, dead band 0.97..1.03
        "q_u": Curve((0.93, 0.97, 1.03, 1.07), (0.436, 0.0, 0.0, -0.436)),
        "p_u": Curve((1.06, 1.10), (1.0, 0.2)),
    },
}
"""Default curves; ``ieee1547_b`` is the default preset."""


def first_order(previous: np.ndarray, target: np.ndarray, dt_s: float, tau_s: float) -> np.ndarray:
    """Response of a first-order lag over one step [unit of the inputs].

    ``y + (target - y) * (1 - exp(-dt / tau))``; ``tau_s == 0`` follows at once.
    """
    if tau_s <= 0:
        return np.asarray(target, float).copy()
    alpha = 1.0 - np.exp(-dt_s / tau_s)
    return previous + (target - previous) * alpha
