"""On-load tap changer control at the primary substation (pure).

A classic automatic voltage regulator: the controlled voltage (optionally
line-drop compensated) is compared with the set-point; outside the dead band
for at least the delay, the tap moves one step towards the band; tap limits
are respected.

References
----------
.. [1] IEEE Std C57.15-2017 / C57.131-2012 (tap changers) and J. Machowski,
   J. Bialek, J. Bumby, "Power System Dynamics", 2nd ed., Wiley 2008,
   sec. 2.5.2 (line-drop compensation).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Oltc"]


@dataclass(slots=True)
class Oltc:
    """Tap changer controller state and law.

    Attributes
    ----------
    set_point_pu : float
        Voltage set-point at the regulated point [pu].
    dead_band_pu : float
        Half width of the dead band [pu]: no action while |V - V_set| <= it.
    delay_s : int
        Time the voltage must stay outside the band before a tap step [s].
    tap_min, tap_max : int
        Tap limits.
    raise_per_tap_pu : float
        Voltage change at the regulated bus per +1 tap [pu]; negative when a
        higher tap lowers the secondary voltage (tap changer on the HV side).
    ldc_r_pu, ldc_x_pu : float
        Line-drop compensation impedance [pu on the transformer's rating];
        0 = none.
    """

    set_point_pu: float
    dead_band_pu: float
    delay_s: int
    tap_min: int
    tap_max: int
    raise_per_tap_pu: float
    ldc_r_pu: float = 0.0
    ldc_x_pu: float = 0.0
    _outside_since_s: int | None = None

    def controlled_voltage(self, v_pu: float, p_pu: float = 0.0, q_pu: float = 0.0) -> float:
        """Voltage compared with the set-point, with line-drop compensation [pu].

        ``p_pu``, ``q_pu`` is the power leaving the busbar [pu on the
        transformer rating]; the compensated voltage approximates the voltage
        at the load centre: ``V - (R P + X Q) / V``.
        """
        if self.ldc_r_pu == 0.0 and self.ldc_x_pu == 0.0:
            return v_pu
        return v_pu - (self.ldc_r_pu * p_pu + self.ldc_x_pu * q_pu) / max(v_pu, 1e-3)

    def step(self, time_s: int, v_pu: float, tap: int, p_pu: float = 0.0, q_pu: float = 0.0) -> int:
        """The tap position to command at ``time_s`` (``tap`` if no change)."""
        error = self.controlled_voltage(v_pu, p_pu, q_pu) - self.set_point_pu
        if abs(error) <= self.dead_band_pu:
            self._outside_since_s = None
            return tap
        if self._outside_since_s is None:
            self._outside_since_s = time_s
        if time_s - self._outside_since_s < self.delay_s:
            return tap
        # move towards the band: lower the voltage when it is high
        direction = -1 if error > 0 else 1
        if self.raise_per_tap_pu < 0:
            direction = -direction
        new = min(max(tap + direction, self.tap_min), self.tap_max)
        if new != tap:
            self._outside_since_s = None  # the delay restarts after each step
        return new
