"""What a command may ask of the grid: one range per target and element (pure; no mosaik).

gridtwin's own functions send commands that are right by construction; a
command from outside — an external function's JSON or a process-bus
message — is checked here, the same way for both, before it reaches the
command channel. A rejected command is never applied; the caller counts it
and records it in the ``command_rejected`` table.

Ranges (a rating is ``sn_mva``, else ``|p_mw|``, for DER times the
scenario's ``sgen_scale``; a unit without either takes no set-point but 0):

=====================  ==============================================
switch_closed          0 (open) or 1 (closed)
line_in_service        0 or 1
trafo_tap_pos          an integer in [tap_min, tap_max]; a transformer
                       without a tap changer only its fixed position
sgen_q_set_mvar        within plus or minus the rating [MVAr]
sgen_p_limit_mw        in [0, rating] [MW]
storage_p_set_mw       within plus or minus the rating [MW]
=====================  ==============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from gridtwin.grid.commands import COMMAND_TARGETS, Target
from gridtwin.grid.topology import element_names

if TYPE_CHECKING:
    import pandapower as pp

__all__ = ["REJECTED_TABLE", "CommandLimits", "Range", "Rejection", "rejected_row"]


class Rejection:
    """Reasons a command's values are rejected (besides each wire form's own)."""

    NON_FINITE = "non_finite"
    OUT_OF_RANGE = "out_of_range"


NAN_MEANS_DEFAULT = frozenset({Target.SGEN_Q_SET_MVAR, Target.SGEN_P_LIMIT_MW})
"""Targets where a wire form may send NaN (JSON ``null``) for "back to the default":
a Q set-point of NaN hands the unit back to its profile, a P limit of NaN lifts it."""

UNITS: dict[Target, str] = {
    Target.SWITCH_CLOSED: "-",
    Target.LINE_IN_SERVICE: "-",
    Target.TRAFO_TAP_POS: "-",
    Target.SGEN_Q_SET_MVAR: "MVAr",
    Target.SGEN_P_LIMIT_MW: "MW",
    Target.STORAGE_P_SET_MW: "MW",
}


@dataclass(frozen=True, slots=True)
class Range:
    """The allowed values of one command target, per element.

    Attributes
    ----------
    names : list of str
        The elements the target addresses (their table's names).
    lo, hi : ndarray
        Bounds per element, in the target's unit.
    integer : bool
        Whether values must be whole numbers.
    unit : str
        The target's unit.
    """

    names: list[str]
    lo: np.ndarray
    hi: np.ndarray
    integer: bool
    unit: str

    def out_of_range(self, positions: np.ndarray, values: np.ndarray) -> str | None:
        """What is out of range, naming the element and its range (one line), or None."""
        lo, hi = self.lo[positions], self.hi[positions]
        bad = (values < lo - 1e-9) | (values > hi + 1e-9)
        if self.integer:
            bad |= values != np.round(values)
        if not bad.any():
            return None
        k = int(np.flatnonzero(bad)[0])
        kind = "an integer " if self.integer else ""
        return (
            f"{self.names[positions[k]]}: got {float(values[k])!r}; "
            f"expected {kind}in [{lo[k]:g}, {hi[k]:g}] {self.unit}"
        )


@dataclass(frozen=True, slots=True)
class CommandLimits:
    """The ranges of every command target on one net (see the module's table)."""

    ranges: dict[Target, Range]

    @classmethod
    def from_net(cls, net: pp.pandapowerNet, sgen_scale: float = 1.0) -> CommandLimits:
        """The limits of ``net`` (DER ratings times the scenario's ``sgen_scale``)."""
        der = _rating(net.sgen) * float(sgen_scale)
        storage = _rating(net.storage)
        tap_lo, tap_hi = _tap_range(net.trafo)
        bounds: dict[Target, tuple[np.ndarray, np.ndarray]] = {
            Target.SWITCH_CLOSED: _unit_interval(len(net.switch)),
            Target.LINE_IN_SERVICE: _unit_interval(len(net.line)),
            Target.TRAFO_TAP_POS: (tap_lo, tap_hi),
            Target.SGEN_Q_SET_MVAR: (-der, der),
            Target.SGEN_P_LIMIT_MW: (np.zeros(len(der)), der),
            Target.STORAGE_P_SET_MW: (-storage, storage),
        }
        integer = {Target.SWITCH_CLOSED, Target.LINE_IN_SERVICE, Target.TRAFO_TAP_POS}
        return cls(
            {
                target: Range(
                    element_names(net, COMMAND_TARGETS[target][0]),
                    lo,
                    hi,
                    target in integer,
                    UNITS[target],
                )
                for target, (lo, hi) in bounds.items()
            }
        )

    def check(
        self,
        target: Target,
        positions: np.ndarray,
        values: np.ndarray,
        *,
        nan_means_default: bool = False,
    ) -> tuple[str, str] | None:
        """``(reason, detail)`` if ``values`` at ``positions`` are refused, else None.

        ``nan_means_default``: the wire form lets NaN stand for "back to the
        default" (see :data:`NAN_MEANS_DEFAULT`); elsewhere NaN is refused.
        """
        rng = self.ranges[target]
        nan = np.isnan(values)
        bad = np.isinf(values) | (nan & ~(nan_means_default and target in NAN_MEANS_DEFAULT))
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            return Rejection.NON_FINITE, (
                f"{rng.names[positions[k]]}: got {float(values[k])}; expected a finite value"
            )
        keep = ~nan
        detail = rng.out_of_range(positions[keep], values[keep])
        return None if detail is None else (Rejection.OUT_OF_RANGE, detail)


def _column(frame: Any, name: str, default: float) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), default)
    return np.asarray(frame[name].to_numpy(), dtype=float)


def _rating(units: Any) -> np.ndarray:
    """Rated power per unit [MVA]: ``sn_mva``, else ``|p_mw|``."""
    rating = _column(units, "sn_mva", np.nan)
    return np.where(np.isfinite(rating), rating, np.abs(_column(units, "p_mw", 0.0)))


def _unit_interval(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(n), np.ones(n)


def _tap_range(trafo: Any) -> tuple[np.ndarray, np.ndarray]:
    """[tap_min, tap_max] per transformer; without a tap changer its fixed position."""
    pos = np.nan_to_num(_column(trafo, "tap_pos", 0.0))
    lo, hi = _column(trafo, "tap_min", np.nan), _column(trafo, "tap_max", np.nan)
    lo, hi = np.where(np.isfinite(lo), lo, pos), np.where(np.isfinite(hi), hi, pos)
    return np.minimum(lo, pos), np.maximum(hi, pos)


REJECTED_TABLE = "command_rejected"
"""The run directory's table of refused commands, from every source outside gridtwin."""


def rejected_row(
    time_s: float,
    sim_time_s: int,
    source: str,
    reason: str,
    detail: str,
    command: str,
    *,
    topic: str | None,
    received: float | None,
) -> dict[str, Any]:
    """One ``command_rejected`` row (see the README's run-directory table).

    Parameters
    ----------
    time_s : float
        The step the command was sent at [s since the epoch].
    sim_time_s : int
        The same step [s of simulation time].
    source : str
        ``mqtt`` or the external function's name.
    reason, detail : str
        Why (one word) and what was wrong (one line naming the field).
    command : str
        The command as received (JSON text, cut at 2,000 characters).
    topic : str or None
        The MQTT topic it came on (None from a mosaik function).
    received : float or None
        Wall-clock arrival [s since the epoch] (MQTT; None from a mosaik function).
    """
    return {
        "time": datetime.fromtimestamp(time_s, UTC),
        "sim_time_s": int(sim_time_s),
        "source": source,
        "reason": reason,
        "detail": detail,
        "command": command[:2000],
        "topic": topic,
        "received": None if received is None else datetime.fromtimestamp(received, UTC),
    }
