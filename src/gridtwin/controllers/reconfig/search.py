"""The optimizer: exact where the grid is small, else iterated branch exchange.

Single period
    If the grid has at most ``exact_max_configs`` radial configurations
    (counted with Kirchhoff's theorem) all of them are evaluated, in batches.
    Otherwise an iterated local search: steepest-descent branch exchange
    (for each open line, every line of the loop it closes; the whole
    neighbourhood is one power-flow batch), then restarts from the best
    configuration after a few random exchanges, until ``max_stall`` restarts
    bring nothing or the evaluation budget is spent.
Several periods
    The same search per period (warm-started from the previous period) and
    once for one configuration held over the whole horizon; then a dynamic
    program (Viterbi) picks one of these configurations per period, trading
    losses against switching cost; then the neighbourhoods of the chosen
    configurations join the pool and the program runs again while it gains.
    With zero switching cost this returns the per-period optima; with a high
    one, a single configuration.

Budget
    The search stops on a count of configuration-period cost evaluations
    (``max_evaluations``, default :data:`DEFAULT_MAX_EVALUATIONS`), never on
    the clock unless asked: the same problem and seed give the same plan on
    any machine, however busy. A wall-clock cap (``time_limit_s``) is only a
    safety stop; when it binds the status says so (``time_limit``) because
    the plan then depends on the machine's load.

Warm start
    With a :class:`~.memory.SearchMemory` the search takes what earlier
    searches on the same problem computed: power-flow outcomes per
    configuration and period content, reliability indices, and the result of
    each period whose content it has searched already (charged to the budget
    with the evaluations that search used, so the whole-horizon phase gets
    the budget it gets cold).

References
----------
M. E. Baran, F. F. Wu, "Network reconfiguration in distribution systems for loss
reduction and load balancing", IEEE Trans. Power Delivery 4(2), 1989.
S. Civanlar, J. J. Grainger, H. Yin, S. S. H. Lee, "Distribution feeder
reconfiguration for loss reduction", IEEE Trans. Power Delivery 3(3), 1988.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from gridtwin.controllers.reconfig.assess import Assessment, assess
from gridtwin.controllers.reconfig.graph import Tree, count_radial, enumerate_radial, repair
from gridtwin.controllers.reconfig.memory import SearchMemory
from gridtwin.controllers.reconfig.objective import CostModel, Weights
from gridtwin.controllers.reconfig.problem import Periods, Problem

__all__ = ["DEFAULT_MAX_EVALUATIONS", "Solution", "Status", "optimize"]

Callback = Callable[[np.ndarray, float], None]

DEFAULT_MAX_EVALUATIONS = 20000
"""Default search budget [configuration-period evaluations, one AC power flow each]."""


class Status(StrEnum):
    """How a solution was found."""

    OPTIMAL = "optimal"  # every radial configuration evaluated
    LOCAL = "local"  # the heuristic ended by itself: local optimum, no gain in max_stall restarts
    BUDGET = "budget"  # the evaluation budget ended the heuristic (machine-independent)
    TIME_LIMIT = "time_limit"  # the wall-clock cap ended it: the plan depends on the machine's load


@dataclass(slots=True)
class Solution:
    """A configuration plan and its assessment.

    Attributes
    ----------
    problem : Problem
    plan : ndarray of bool, shape (n_periods, m)
        Closed switchable lines per period (columns as ``problem.line_pos``).
    start : ndarray of bool, shape (m,)
        The configuration before the first period, as given (not repaired).
    objective : float
        Total cost [EUR] (see :mod:`~gridtwin.controllers.reconfig.objective`).
    assessment : Assessment
    status : Status
    runtime_s : float
    power_flows : int
        Power flows run by the search (fewer than ``evaluations`` when a
        :class:`~.memory.SearchMemory` held some outcomes).
    weights : Weights
    evaluations : int
        Configuration-period costs the search asked for (what
        ``max_evaluations`` counts, together with the evaluations charged for
        periods a memory had searched before).
    """

    problem: Problem
    plan: np.ndarray
    start: np.ndarray
    objective: float
    assessment: Assessment
    status: Status
    runtime_s: float
    power_flows: int
    weights: Weights = field(default_factory=Weights)
    evaluations: int = 0

    def switch_closed(self, period: int = 0, base: np.ndarray | None = None) -> np.ndarray:
        """``net.switch.closed`` positions for ``period``, shape (n_switch,)."""
        return self.problem.switch_closed(self.plan[period], base)

    def line_in_service(self, period: int = 0) -> np.ndarray:
        """``net.line.in_service`` for ``period`` (all-lines-switchable nets), shape (n_line,)."""
        return self.problem.line_in_service(self.plan[period])

    def open_lines(self, period: int = 0) -> list[int]:
        """pandapower indices of the switchable lines open in ``period``."""
        return self.problem.line_index()[~self.plan[period]].tolist()

    def to_dict(self) -> dict[str, Any]:
        """The solution as JSON-ready data: switch states per period plus the assessment."""
        p = self.problem
        periods = []
        for t in range(len(self.plan)):
            row: dict[str, Any] = {
                "open_lines": self.open_lines(t),
                "closed_lines": p.line_index()[self.plan[t]].tolist(),
            }
            if p.all_lines_switchable:
                row["line_in_service"] = self.line_in_service(t).tolist()
            else:
                row["switch_closed"] = self.switch_closed(t).tolist()
            periods.append(row)
        return {
            "format": "gridtwin-reconfig-solution/1",
            "all_lines_switchable": p.all_lines_switchable,
            "switchable_lines": p.line_index().tolist(),
            "start_open_lines": p.line_index()[~self.start].tolist(),
            "status": str(self.status),
            "objective": self.objective,
            "runtime_s": self.runtime_s,
            "power_flows": self.power_flows,
            "evaluations": self.evaluations,
            "weights": {
                "loss_cost_per_mwh": self.weights.loss_cost_per_mwh,
                "reliability": self.weights.reliability,
                "switching_cost": self.weights.switching_cost,
                "violation_cost_per_percent_h": self.weights.violation_cost_per_percent_h,
            },
            "periods": periods,
            "assessment": self.assessment.to_dict(),
        }


class _Search:
    """Shared state of one optimization: costs, clock, random numbers."""

    def __init__(
        self,
        problem: Problem,
        costs: CostModel,
        deadline: float,
        rng: np.random.Generator,
        max_stall: int,
        max_evaluations: float = np.inf,
    ) -> None:
        self.problem = problem
        self.costs = costs
        self.deadline = deadline
        self.rng = rng
        self.max_stall = max_stall
        self.max_evaluations = max_evaluations
        self.stopped = False
        self.charged = 0  # budget charged for periods a memory had searched already
        self.budget_bound = False  # an evaluation budget (or a period's share) ended a search
        self.clock_bound = False  # the wall-clock cap (or a period's share) ended a search

    def out_of_time(self) -> bool:
        """Whether the search must stop; notes which limit ended it (the budget first)."""
        if self.stopped:
            return True
        if self.costs.n_evaluated + self.charged >= self.max_evaluations:
            self.stopped = self.budget_bound = True
        elif time.perf_counter() >= self.deadline:
            self.stopped = self.clock_bound = True
        return self.stopped

    def status(self) -> Status:
        """The heuristic's status: the clock, else the budget, else a local optimum."""
        if self.clock_bound:
            return Status.TIME_LIMIT
        return Status.BUDGET if self.budget_bound else Status.LOCAL

    def segment_cost(
        self, periods: np.ndarray, ref: np.ndarray | None
    ) -> Callable[[np.ndarray], np.ndarray]:
        """Cost of holding each configuration over ``periods``, switching from ``ref``."""
        w_sw = self.costs.weights.switching_cost

        def cost(closed: np.ndarray) -> np.ndarray:
            c = self.costs.total(closed, periods).sum(axis=1)
            if ref is not None and w_sw:
                c = c + w_sw * (np.atleast_2d(closed) != ref).sum(axis=1)
            return c

        return cost

    def descend(
        self, cost: Callable[[np.ndarray], np.ndarray], x: np.ndarray, fx: float
    ) -> tuple[np.ndarray, float]:
        """Steepest-descent branch exchange from ``x``."""
        while not self.out_of_time():
            nb = Tree(self.problem, x).neighbours()
            if not len(nb):
                break
            c = cost(nb)
            i = int(np.argmin(c))
            if c[i] < fx - 1e-9 * max(1.0, abs(fx)):
                x, fx = nb[i], float(c[i])
            else:
                break
        return x, fx

    def iterate(
        self,
        cost: Callable[[np.ndarray], np.ndarray],
        x0: np.ndarray,
        on_better: Callable[[np.ndarray, float], None] | None = None,
    ) -> tuple[np.ndarray, float]:
        """Iterated local search from ``x0``: descend, perturb the best, descend again."""
        best, f_best = self.descend(cost, x0, float(cost(x0)[0]))
        if on_better:
            on_better(best, f_best)
        stall = 0
        n_loops = max(1, self.problem.n_loops)
        while stall < self.max_stall and not self.out_of_time():
            y = best
            for _ in range(int(self.rng.integers(1, min(3, n_loops) + 1))):
                y = Tree(self.problem, y).random_exchange(self.rng)
            y, fy = self.descend(cost, y, float(cost(y)[0]))
            if fy < f_best - 1e-9 * max(1.0, abs(f_best)):
                best, f_best, stall = y, fy, 0
                if on_better:
                    on_better(best, f_best)
            else:
                stall += 1
        return best, f_best


def _plan(
    costs: CostModel, pool: np.ndarray, n_periods: int, start: np.ndarray
) -> tuple[np.ndarray, float]:
    """Cheapest sequence of pool configurations over the periods (Viterbi)."""
    c = costs.total(pool, np.arange(n_periods))  # (C, T)
    w_sw = costs.weights.switching_cost
    x = pool.astype(np.float32)
    same = x @ x.T + (1 - x) @ (1 - x).T
    hamming = (pool.shape[1] - same).astype(float) * w_sw
    acc = c[:, 0] + w_sw * (pool != start).sum(axis=1)
    back = np.zeros((n_periods, len(pool)), dtype=np.int64)
    for t in range(1, n_periods):
        total = acc[:, None] + hamming
        back[t] = np.argmin(total, axis=0)
        acc = total[back[t], np.arange(len(pool))] + c[:, t]
    idx = np.empty(n_periods, dtype=np.int64)
    idx[-1] = int(np.argmin(acc))
    for t in range(n_periods - 1, 0, -1):
        idx[t - 1] = back[t, idx[t]]
    return pool[idx], float(acc[idx[-1]])


def _per_period(
    search: _Search,
    x0: np.ndarray,
    deadline: float,
    budget: float,
    memory: SearchMemory | None,
) -> list[np.ndarray]:
    """The search of each period alone, with an equal share of the budget (and clock).

    Each period starts where the previous period's search ended. Warm, a period
    whose content an earlier search has searched already (the overlap of a
    rolling horizon) takes that search's result instead, and the evaluations
    that search used are charged to the budget as if it had searched again;
    the whole-horizon phase that follows therefore gets the budget it gets cold.
    """
    costs = search.costs
    n_t = costs.periods.n
    found = [x0]
    x = x0
    share = (deadline - time.perf_counter()) / (2 * n_t)
    search.charged = 0
    for t in range(n_t):
        key = costs.period_key(t)
        known = memory.period_best(key) if memory is not None and key is not None else None
        if known is not None:
            x = known[0]
            search.charged += known[1]
        else:
            search.deadline = min(deadline, time.perf_counter() + share)
            used = costs.n_evaluated + search.charged
            search.max_evaluations = min(budget, used + budget / (2 * n_t))
            search.stopped = False
            x, _ = search.iterate(search.segment_cost(np.array([t]), None), x)
            if memory is not None and key is not None:
                memory.store_period_best(key, x, costs.n_evaluated + search.charged - used)
        found.append(x)
    return found


def _unique(rows: np.ndarray) -> np.ndarray:
    return np.unique(rows, axis=0)


def optimize(
    problem: Problem,
    periods: Periods | None = None,
    *,
    weights: Weights | None = None,
    start: np.ndarray | None = None,
    time_limit_s: float | None = None,
    seed: int = 0,
    exact_max_configs: int = 2000,
    max_stall: int | None = None,
    max_evaluations: int | None = DEFAULT_MAX_EVALUATIONS,
    on_improvement: Callback | None = None,
    memory: SearchMemory | None = None,
) -> Solution:
    """Find the cheapest radial configuration per period.

    Parameters
    ----------
    problem : Problem
    periods : Periods, optional
        Loads and generation per period; default one period at the net's powers.
    weights : Weights, optional
        Prices of losses, violations, switching and reliability; default :class:`Weights`.
    start : ndarray of bool, shape (m,), optional
        The current configuration (default: the net's); repaired first if it is
        not radial or leaves loads unsupplied. Switching away from it costs.
    time_limit_s : float, optional
        Wall-clock safety cap [s]; default None (or ``inf``): none. When it
        binds, the best plan so far is returned with status ``time_limit``,
        and that plan depends on how busy the machine was.
    seed : int
        Seed of the restarts' random exchanges (same seed, same result).
    exact_max_configs : int
        Evaluate every radial configuration if there are at most this many.
    max_stall : int, optional
        Restarts without gain before the heuristic stops (default ``4 * loops + 10``).
    max_evaluations : int, optional
        Budget of configuration-period cost evaluations (one AC power flow each)
        for the heuristic; default :data:`DEFAULT_MAX_EVALUATIONS`, None for no
        budget (the heuristic then ends on ``max_stall`` alone). Unlike the
        time limit it does not depend on the machine: the same seed gives the
        same plan everywhere, as a co-simulation run needs. Status ``budget``
        says it ended the search, ``local`` that the search ended by itself.
    on_improvement : callable, optional
        Called as ``on_improvement(plan, objective)`` with each better plan
        ``(n_periods, m)`` found, so the best so far is always at hand.
    memory : SearchMemory, optional
        A warm start: what earlier searches on ``problem`` computed (power-flow
        outcomes per configuration and period content, reliability indices per
        configuration, the result of each period searched before). The search
        takes them from there and adds its own. With a fresh memory the plan is
        exactly the one without, with fewer power flows; with the memory of an
        overlapping horizon, periods searched before are not searched again
        (their evaluations are charged to the budget). A controller
        re-planning a rolling horizon passes the same memory every time.

    Returns
    -------
    Solution
    """
    t0 = time.perf_counter()
    if max_evaluations is not None and max_evaluations <= 0:
        raise ValueError(f"max_evaluations: got {max_evaluations}; expected a count > 0")
    if time_limit_s is not None and not time_limit_s > 0:
        raise ValueError(f"time_limit_s: got {time_limit_s}; expected seconds > 0 or None")
    time_limit_s = np.inf if time_limit_s is None else float(time_limit_s)
    periods = periods or Periods.from_net(problem.net)
    weights = weights or Weights()
    given = problem.start_closed if start is None else np.asarray(start, dtype=bool)
    x0 = repair(problem, given)
    costs = CostModel(problem, periods, weights, memory)
    flows0 = problem.flow.n_flows
    stall = max_stall if max_stall is not None else 4 * max(1, problem.n_loops) + 10
    budget = np.inf if max_evaluations is None else float(max_evaluations)
    search = _Search(problem, costs, t0 + time_limit_s, np.random.default_rng(seed), stall, budget)
    n_t = periods.n
    all_t = np.arange(n_t)

    def report(plan: np.ndarray, value: float) -> None:
        if on_improvement is not None:
            on_improvement(np.atleast_2d(plan), value)

    status = Status.LOCAL
    if count_radial(problem) <= exact_max_configs:
        pool = enumerate_radial(problem)
        plan, value = _plan(costs, pool, n_t, given)
        status = Status.OPTIMAL
        report(plan, value)
    elif n_t == 1:
        best, _ = search.iterate(search.segment_cost(all_t, given), x0, report)
        plan, value = _plan(costs, best[None, :], 1, given)
    else:
        found = _per_period(search, x0, t0 + time_limit_s, budget, memory)
        search.deadline = t0 + time_limit_s
        search.max_evaluations = budget
        search.stopped = False
        pool = _unique(np.array(found))
        whole, _ = search.iterate(search.segment_cost(all_t, given), x0)
        pool = _unique(np.vstack([pool, whole[None, :]]))
        plan, value = _plan(costs, pool, n_t, given)
        report(plan, value)
        while not search.out_of_time():
            near = [Tree(problem, row).neighbours() for row in _unique(plan)]
            bigger = _unique(np.vstack([pool, *near]))
            if len(bigger) == len(pool):
                break
            pool = bigger
            new_plan, new_value = _plan(costs, pool, n_t, given)
            if new_value >= value - 1e-9 * max(1.0, abs(value)):
                break
            plan, value = new_plan, new_value
            report(plan, value)
    if status is not Status.OPTIMAL:
        status = search.status()
    power_flows = problem.flow.n_flows - flows0
    assessment = assess(problem, plan, periods, weights=weights, start=given)
    return Solution(
        problem=problem,
        plan=plan,
        start=given,
        objective=value,
        assessment=assessment,
        status=status,
        runtime_s=time.perf_counter() - t0,
        power_flows=power_flows,
        weights=weights,
        evaluations=costs.n_evaluated,
    )
