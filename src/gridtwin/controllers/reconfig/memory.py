"""What one search leaves to the next on the same grid: a warm start.

A reconfiguration function in the loop plans every few hours over a horizon
that overlaps the previous one: with a 24 h horizon re-planned every 6 h, 18
of the new plan's hourly periods carry the same forecast as the previous
plan's. A :class:`SearchMemory` keeps

- per configuration and period *content* (the period's loads and generation,
  not its index) the power-flow outcome a cost is made of (losses, limit
  violations, convergence), so it is never computed twice; this replaces a
  computation by its stored result, bit for bit;
- per configuration its RELRAD indices, likewise;
- per period content the configuration that period's own search ended with
  and the evaluations it used: a later search takes that result instead of
  searching the period again, and charges those evaluations to its budget.

A fresh memory changes no result (periods searched earlier in the same search
are not reused). The memory keeps only what the last search used and the
periods it was given, so its size is bounded by one search.
"""

from __future__ import annotations

import hashlib

import numpy as np

from gridtwin.controllers.reconfig.periods import Periods
from gridtwin.controllers.reconfig.problem import Problem
from gridtwin.controllers.reconfig.reliability import BusReliability, bus_reliability

__all__ = ["SearchMemory"]

FlowOutcome = tuple[float, float, bool]
"""Losses [MW], limit violations [percentage points], converged."""


class SearchMemory:
    """Power-flow outcomes and reliability indices kept between searches on one problem.

    Parameters
    ----------
    problem : Problem
        The grid the searches run on; a memory serves this problem only.

    Attributes
    ----------
    hits, misses : int
        Configuration-period outcomes taken from the memory / computed, over its life.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self._flows: dict[tuple[bytes, bytes], FlowOutcome] = {}
        self._rel: dict[bytes, BusReliability] = {}
        self._rel_used: set[bytes] = set()
        self._period_best: dict[bytes, tuple[np.ndarray, int]] = {}
        self._period_new: dict[bytes, tuple[np.ndarray, int]] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        """Configuration-period outcomes held."""
        return len(self._flows)

    @staticmethod
    def period_keys(periods: Periods) -> list[bytes]:
        """One key per period from its loads and generation (its length does not matter)."""
        keys = []
        for t in range(periods.n):
            h = hashlib.blake2b(digest_size=16)
            for values in (
                periods.load_p_mw[t],
                periods.load_q_mvar[t],
                periods.sgen_p_mw[t],
                periods.sgen_q_mvar[t],
            ):
                h.update(np.ascontiguousarray(values, dtype=np.float64).tobytes())
            keys.append(h.digest())
        return keys

    def begin(self, problem: Problem, period_keys: list[bytes]) -> None:
        """Start a search on ``period_keys``: drop what it cannot use.

        Raises
        ------
        ValueError
            If ``problem`` is not the memory's problem.
        """
        if problem is not self.problem:
            raise ValueError("memory: this SearchMemory belongs to another Problem")
        wanted = set(period_keys)
        self._flows = {k: v for k, v in self._flows.items() if k[1] in wanted}
        self._period_best.update(self._period_new)
        self._period_new = {}
        self._period_best = {k: v for k, v in self._period_best.items() if k in wanted}
        if self._rel_used:  # keep the configurations the last search used
            self._rel = {k: v for k, v in self._rel.items() if k in self._rel_used}
        self._rel_used = set()

    def flow(self, config: bytes, period: bytes) -> FlowOutcome | None:
        """The stored outcome of configuration ``config`` in period ``period``, if any."""
        hit = self._flows.get((config, period))
        if hit is None:
            self.misses += 1
        else:
            self.hits += 1
        return hit

    def store_flow(self, config: bytes, period: bytes, outcome: FlowOutcome) -> None:
        """Keep an outcome computed by the search."""
        self._flows[(config, period)] = outcome

    def period_best(self, period: bytes) -> tuple[np.ndarray, int] | None:
        """What an earlier search found for a period of this content, if any.

        Returns
        -------
        (closed, evaluations) : the configuration and the evaluations its search used.
        """
        return self._period_best.get(period)

    def store_period_best(self, period: bytes, closed: np.ndarray, evaluations: int) -> None:
        """Keep what this search found for a period (for the searches after it)."""
        self._period_new.setdefault(period, (np.array(closed, dtype=bool), int(evaluations)))

    def reliability(self, config: bytes, closed: np.ndarray) -> BusReliability:
        """RELRAD indices of configuration ``closed`` (key ``config``), stored or computed."""
        self._rel_used.add(config)
        hit = self._rel.get(config)
        if hit is None:
            hit = self._rel[config] = bus_reliability(self.problem, closed)
        return hit
