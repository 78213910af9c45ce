"""What a command may ask of the grid: value checks per target (pure; no mosaik).

gridtwin's own functions send commands that are right by construction; a
command from outside (an external function's JSON, a process-bus message) is
checked here before it reaches the command channel. A rejected command is
never applied; the caller counts and records it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandapower as pp

from gridtwin.grid.commands import Target

__all__ = ["CommandLimits", "Rejection"]


class Rejection:
    """Reasons a command is rejected (besides the wire's own, see the external wire form)."""

    NON_FINITE = "non_finite"
    OUT_OF_RANGE = "out_of_range"


@dataclass(frozen=True, slots=True)
class CommandLimits:
    """The ranges of every command target on one net.

    Attributes
    ----------
    tap_min, tap_max : ndarray
        Tap range per transformer [-] (NaN: no tap changer; any tap command is rejected).
    sgen_rating_mva : ndarray
        Rated apparent power per sgen [MVA]; ``|Q set-point|`` may not exceed it.
    storage_rating_mva : ndarray
        Rated power per storage unit [MVA]; ``|P set-point|`` may not exceed it
        (inf where the net gives no rating).
    """

    tap_min: np.ndarray
    tap_max: np.ndarray
    sgen_rating_mva: np.ndarray
    storage_rating_mva: np.ndarray

    @classmethod
    def from_net(cls, net: pp.pandapowerNet, sgen_scale: float = 1.0) -> CommandLimits:
        """The limits of ``net`` (sgen ratings times the scenario's ``sgen_scale``)."""
        rating = net.sgen["sn_mva"].fillna(net.sgen["p_mw"].abs()).to_numpy(float) * sgen_scale
        storage = net.storage
        storage_mva = (
            storage["sn_mva"].to_numpy(float)
            if "sn_mva" in storage
            else np.full(len(storage), np.nan)
        )
        no_tap = np.full(len(net.trafo), np.nan)
        return cls(
            net.trafo["tap_min"].to_numpy(float) if "tap_min" in net.trafo else no_tap,
            net.trafo["tap_max"].to_numpy(float) if "tap_max" in net.trafo else no_tap,
            rating,
            np.where(np.isfinite(storage_mva), storage_mva, np.inf),
        )

    def check(self, target: Target, positions: np.ndarray, values: np.ndarray) -> str | None:
        """The reason ``values`` for ``target`` at ``positions`` are rejected, or None.

        NaN is allowed only where it means something: a Q set-point of NaN
        hands the unit back to its profile, a P limit of NaN (JSON ``null``)
        means no limit; the caller turns the latter into inf.
        """
        nan = np.isnan(values)
        if np.isinf(values).any() or (nan.any() and target not in _NAN_ALLOWED):
            return Rejection.NON_FINITE
        ok = {
            Target.SWITCH_CLOSED: lambda: bool(np.isin(values, (0.0, 1.0)).all()),
            Target.LINE_IN_SERVICE: lambda: bool(np.isin(values, (0.0, 1.0)).all()),
            Target.TRAFO_TAP_POS: lambda: self._tap_ok(positions, values),
            Target.SGEN_Q_SET_MVAR: lambda: bool(
                (nan | (np.abs(values) <= self.sgen_rating_mva[positions] + 1e-9)).all()
            ),
            Target.SGEN_P_LIMIT_MW: lambda: bool((nan | (values >= 0.0)).all()),
            Target.STORAGE_P_SET_MW: lambda: bool(
                (np.abs(values) <= self.storage_rating_mva[positions] + 1e-9).all()
            ),
        }[target]
        return None if ok() else Rejection.OUT_OF_RANGE

    def _tap_ok(self, positions: np.ndarray, values: np.ndarray) -> bool:
        lo, hi = self.tap_min[positions], self.tap_max[positions]
        whole = values == np.round(values)
        return bool((whole & (values >= lo) & (values <= hi)).all())


_NAN_ALLOWED = frozenset({Target.SGEN_Q_SET_MVAR, Target.SGEN_P_LIMIT_MW})
