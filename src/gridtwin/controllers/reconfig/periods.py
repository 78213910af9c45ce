"""Load and generation per period: what a reconfiguration plans for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gridtwin.grid.state import GridState

if TYPE_CHECKING:
    import pandapower as pp

__all__ = ["Periods"]


@dataclass(frozen=True, slots=True)
class Periods:
    """Load and generation for one or more periods, rows ordered as ``net.load`` / ``net.sgen``.

    Attributes
    ----------
    load_p_mw, load_q_mvar : ndarray, shape (n_periods, n_load)
        Load demand [MW], [MVAr] (consumption positive).
    sgen_p_mw, sgen_q_mvar : ndarray, shape (n_periods, n_sgen)
        Generation [MW], [MVAr] (generation positive).
    duration_h : ndarray, shape (n_periods,)
        Length of each period [h].
    """

    load_p_mw: np.ndarray
    load_q_mvar: np.ndarray
    sgen_p_mw: np.ndarray
    sgen_q_mvar: np.ndarray
    duration_h: np.ndarray

    @property
    def n(self) -> int:
        """Number of periods."""
        return len(self.duration_h)

    @classmethod
    def from_net(cls, net: pp.pandapowerNet, n: int = 1, duration_h: float = 1.0) -> Periods:
        """``n`` periods at the net's own powers (``p_mw`` times ``scaling``, in service only)."""
        inj = GridState.from_net(net).injections()

        def rows(values: np.ndarray) -> np.ndarray:
            return np.tile(values, (n, 1))

        return cls(
            rows(inj.load_p_mw),
            rows(inj.load_q_mvar),
            rows(inj.sgen_p_mw),
            rows(inj.sgen_q_mvar),
            np.full(n, float(duration_h)),
        )

    def select(self, index: np.ndarray | list[int]) -> Periods:
        """The periods at ``index``, in that order."""
        i = np.asarray(index, dtype=np.int64)
        return Periods(
            self.load_p_mw[i],
            self.load_q_mvar[i],
            self.sgen_p_mw[i],
            self.sgen_q_mvar[i],
            self.duration_h[i],
        )
