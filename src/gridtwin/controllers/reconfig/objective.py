"""The objective: losses, limit violations, switching and reliability, in one currency.

Every component is a cost over the planning horizon [EUR]:

- losses: ``Σ_t P_loss,t · Δt_t · loss_cost_per_mwh`` (AC power flows);
- violations: ``Σ_t V_t · Δt_t · violation_cost_per_percent_h`` with ``V_t``
  the limit violations in percentage points (see
  :class:`~gridtwin.controllers.reconfig.flow.FlowBatch`);
- reliability: ``Σ_t C_t · Δt_t / 8760 h · reliability`` with ``C_t`` the
  expected interruption cost per year at the period's loads (RELRAD);
- switching: ``n_operations · switching_cost``, one operation per line that
  changes state, between consecutive periods and from the current configuration.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from gridtwin.controllers.reconfig.memory import SearchMemory
from gridtwin.controllers.reconfig.problem import Periods, Problem
from gridtwin.controllers.reconfig.reliability import bus_reliability, load_reliability

__all__ = ["FAILED_COST", "CostModel", "Objective", "Weights"]

HOURS_PER_YEAR = 8760.0
FAILED_COST = 1e15
"""Cost of a configuration whose power flow does not converge [EUR]."""


class Objective(StrEnum):
    """Preset weights: what to minimize."""

    LOSSES = "losses"
    RELIABILITY = "reliability"
    WEIGHTED = "weighted"


@dataclass(frozen=True, slots=True)
class Weights:
    """Prices of the objective's components.

    Attributes
    ----------
    loss_cost_per_mwh : float
        Price of energy losses [EUR/MWh].
    reliability : float
        Factor on the expected interruption cost [-] (1 = count it in full).
    switching_cost : float
        Cost of one switching operation (one line opened or closed) [EUR].
    violation_cost_per_percent_h : float
        Penalty per percentage point of limit violation and hour [EUR/(%·h)];
        large, so that limits act as constraints whenever they can be met.
    """

    loss_cost_per_mwh: float = 50.0
    reliability: float = 1.0
    switching_cost: float = 10.0
    violation_cost_per_percent_h: float = 1e4

    @classmethod
    def for_objective(cls, objective: Objective | str, **overrides: float) -> Weights:
        """Preset weights: ``losses`` (no reliability, free switching), ``reliability``
        (no losses, free switching) or ``weighted`` (all defaults); then ``overrides``."""
        objective = Objective(objective)
        if objective is Objective.LOSSES:
            base = cls(reliability=0.0, switching_cost=0.0)
        elif objective is Objective.RELIABILITY:
            base = cls(loss_cost_per_mwh=0.0, switching_cost=0.0)
        else:
            base = cls()
        return dataclasses.replace(base, **overrides)


class CostModel:
    """Costs of configurations per period, with a cache of everything evaluated.

    Parameters
    ----------
    problem : Problem
    periods : Periods
    weights : Weights
    memory : SearchMemory, optional
        Outcomes of earlier searches on ``problem`` (a warm start): power flows
        and reliability indices found there are not computed again. Every cost
        asked for still counts as evaluated, so the search is the same with or
        without a memory.
    """

    def __init__(
        self,
        problem: Problem,
        periods: Periods,
        weights: Weights,
        memory: SearchMemory | None = None,
    ) -> None:
        self.problem = problem
        self.periods = periods
        self.weights = weights
        self.memory = memory
        self._period_key = SearchMemory.period_keys(periods) if memory is not None else []
        if memory is not None:
            memory.begin(problem, self._period_key)
        self._cost: dict[tuple[bytes, int], float] = {}
        self._rel: dict[bytes, np.ndarray] = {}

    @property
    def n_evaluated(self) -> int:
        """Configuration-period pairs evaluated so far."""
        return len(self._cost)

    def period_key(self, t: int) -> bytes | None:
        """The memory's key of period ``t`` (None without a memory)."""
        return self._period_key[t] if self.memory is not None else None

    def reliability_cost_per_year(self, closed: np.ndarray) -> np.ndarray:
        """Expected interruption cost per year of a radial configuration, per period [EUR/a]."""
        key = np.packbits(closed).tobytes()
        if key not in self._rel:
            if self.memory is not None:
                indices = self.memory.reliability(key, closed)
            else:
                indices = bus_reliability(self.problem, closed)
            self._rel[key] = load_reliability(self.problem, indices, self.periods)[1]
        return self._rel[key]

    def total(self, closed: np.ndarray, periods: np.ndarray) -> np.ndarray:
        """Cost of each configuration in each of ``periods`` (switching excluded) [EUR].

        Parameters
        ----------
        closed : ndarray of bool, shape (N, m)
            Radial configurations.
        periods : ndarray of int, shape (P,)

        Returns
        -------
        ndarray, shape (N, P)
        """
        closed = np.atleast_2d(closed)
        periods = np.asarray(periods, dtype=np.int64)
        keys = [np.packbits(row).tobytes() for row in closed]
        out = np.empty((len(closed), len(periods)))
        todo_rows, todo_t, todo_at = [], [], []
        for i, key in enumerate(keys):
            for j, t in enumerate(periods.tolist()):
                hit = self._cost.get((key, t))
                if hit is None:
                    todo_rows.append(i)
                    todo_t.append(t)
                    todo_at.append((i, j))
                else:
                    out[i, j] = hit
        if todo_rows:
            rows = np.array(todo_rows)
            ts = np.array(todo_t)
            costs = self._evaluate(closed[rows], ts)
            for (i, j), t, c in zip(todo_at, todo_t, costs.tolist(), strict=True):
                out[i, j] = c
                self._cost[(keys[i], t)] = c
        return out

    def _evaluate(self, closed: np.ndarray, t: np.ndarray) -> np.ndarray:
        w, per = self.weights, self.periods
        order = np.argsort(t, kind="stable")  # one batch per period where possible
        cost = np.empty(len(t))
        for period in np.unique(t):
            rows = order[t[order] == period]
            losses_mw, violation_percent, converged = self._outcomes(closed[rows], int(period))
            hours = per.duration_h[period]
            c = (
                losses_mw * hours * w.loss_cost_per_mwh
                + violation_percent * hours * w.violation_cost_per_percent_h
            )
            if w.reliability:
                rel = np.array([self.reliability_cost_per_year(x)[period] for x in closed[rows]])
                c = c + rel * hours / HOURS_PER_YEAR * w.reliability
            cost[rows] = np.where(converged, c, FAILED_COST)
        return cost

    def _outcomes(
        self, closed: np.ndarray, period: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Losses [MW], violations [%] and convergence of ``closed`` in ``period``.

        One power-flow batch for the configurations the memory does not hold.
        """
        n = len(closed)
        losses, viol = np.empty(n), np.empty(n)
        conv = np.zeros(n, dtype=bool)
        mem = self.memory
        todo = np.arange(n)
        keys: list[bytes] = []
        if mem is not None:
            pkey = self._period_key[period]
            keys = [np.packbits(row).tobytes() for row in closed]
            missing = []
            for i, key in enumerate(keys):
                hit = mem.flow(key, pkey)
                if hit is None:
                    missing.append(i)
                else:
                    losses[i], viol[i], conv[i] = hit
            todo = np.array(missing, dtype=np.int64)
        if len(todo):
            flow = self.problem.flow.run(closed[todo], np.full(len(todo), period), self.periods)
            losses[todo], viol[todo], conv[todo] = (
                flow.losses_mw,
                flow.violation_percent,
                flow.converged,
            )
            if mem is not None:
                for i in todo.tolist():
                    mem.store_flow(keys[i], pkey, (losses[i], viol[i], bool(conv[i])))
        return losses, viol, conv


def switching_operations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Lines that differ between configurations ``a`` and ``b`` (broadcasting), count."""
    return (np.asarray(a, dtype=bool) != np.asarray(b, dtype=bool)).sum(axis=-1)
