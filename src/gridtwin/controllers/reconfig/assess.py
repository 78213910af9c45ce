"""Assessment of a given configuration plan without optimizing (PGO's "solution info")."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from gridtwin.controllers.reconfig.graph import radial_reasons
from gridtwin.controllers.reconfig.objective import HOURS_PER_YEAR, Weights
from gridtwin.controllers.reconfig.problem import Periods, Problem
from gridtwin.controllers.reconfig.reliability import bus_reliability, load_reliability

__all__ = ["Assessment", "PeriodAssessment", "assess"]


@dataclass(slots=True)
class PeriodAssessment:
    """One period of a plan.

    Attributes
    ----------
    radial : bool
        Radial and every load supplied.
    reasons : list of str
        Why not (empty when radial).
    open_lines : list
        pandapower indices of the switchable lines that are open.
    opened, closed : list
        pandapower indices of lines opened / closed at the start of this period
        (relative to the previous period, or to the start configuration).
    switching_operations : int
    losses_mw : float
        Line and transformer losses [MW] (NaN if the power flow failed).
    vm_min_pu, vm_max_pu : float
        Extreme bus voltages of supplied buses [pu].
    line_loading_max_percent, trafo_loading_max_percent : float
        Highest branch loadings [%].
    violations : list of str
        Each bus voltage and branch loading outside its limit.
    eens_mwh_per_year : float
        Expected energy not supplied [MWh/a] at this period's loads (NaN if not radial).
    interruption_cost_per_year : float
        Its cost [EUR/a].
    cost : dict
        This period's objective components [EUR]: losses, violations,
        reliability, switching, total.
    """

    radial: bool
    reasons: list[str]
    open_lines: list[int]
    opened: list[int]
    closed: list[int]
    switching_operations: int
    converged: bool
    losses_mw: float
    vm_min_pu: float
    vm_max_pu: float
    line_loading_max_percent: float
    trafo_loading_max_percent: float
    violations: list[str]
    eens_mwh_per_year: float
    interruption_cost_per_year: float
    cost: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class Assessment:
    """A plan's feasibility and every objective component.

    Attributes
    ----------
    feasible : bool
        Radial, every load supplied, power flows converged and no limit violated
        in every period.
    reasons : list of str
        Why not, each prefixed with its period.
    losses_mwh : float
        Energy losses over the horizon [MWh].
    eens_mwh_per_year : float
        Expected energy not supplied, duration-weighted mean over periods [MWh/a].
    interruption_cost_per_year : float
        Its cost, likewise [EUR/a].
    switching_operations : int
        Line state changes over the horizon, the first period's from the start.
    cost : dict
        Objective components over the horizon [EUR]: losses, violations,
        reliability, switching, total.
    periods : list of PeriodAssessment
    """

    feasible: bool
    reasons: list[str]
    losses_mwh: float
    eens_mwh_per_year: float
    interruption_cost_per_year: float
    switching_operations: int
    vm_min_pu: float
    line_loading_max_percent: float
    cost: dict[str, float]
    periods: list[PeriodAssessment]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN as None)."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def assess(
    problem: Problem,
    plan: np.ndarray,
    periods: Periods | None = None,
    *,
    weights: Weights | None = None,
    start: np.ndarray | None = None,
) -> Assessment:
    """Assess a configuration plan.

    Parameters
    ----------
    problem : Problem
    plan : ndarray of bool, shape (n_periods, m) or (m,)
        Closed switchable lines per period; one row for all periods.
    periods : Periods, optional
        Loads and generation; default one period at the net's own powers.
    weights : Weights, optional
        Prices for the cost components; default :class:`Weights`.
    start : ndarray of bool, shape (m,), optional
        The configuration before the first period (default: the net's).
    """
    periods = periods or Periods.from_net(problem.net)
    weights = weights or Weights()
    plan = np.atleast_2d(np.asarray(plan, dtype=bool))
    if len(plan) == 1 and periods.n > 1:
        plan = np.repeat(plan, periods.n, axis=0)
    start = problem.start_closed if start is None else np.asarray(start, dtype=bool)
    flow = problem.flow.run(plan, np.arange(periods.n), periods)
    line_index = problem.line_index()
    bus_names = problem.net.bus.index.to_numpy()
    net_lines = problem.net.line.index.to_numpy()
    net_trafos = problem.net.trafo.index.to_numpy()
    out: list[PeriodAssessment] = []
    previous = start
    rel_cache: dict[bytes, Any] = {}
    for t in range(periods.n):
        x = plan[t]
        reasons = radial_reasons(problem, x)
        hours = float(periods.duration_h[t])
        violations = _violations(
            problem,
            flow.vm_pu[t],
            flow.line_loading_percent[t],
            flow.trafo_loading_percent[t],
            bus_names,
            net_lines,
            net_trafos,
        )
        if not reasons:
            key = np.packbits(x).tobytes()
            if key not in rel_cache:
                rel_cache[key] = bus_reliability(problem, x)
            eens, rel_cost = (
                float(v[0]) for v in load_reliability(problem, rel_cache[key], periods.select([t]))
            )
        else:
            eens = rel_cost = float("nan")
        ops = int((x != previous).sum())
        cost = {
            "losses": float(flow.losses_mw[t]) * hours * weights.loss_cost_per_mwh,
            "violations": float(flow.violation_percent[t])
            * hours
            * weights.violation_cost_per_percent_h,
            "reliability": rel_cost * hours / HOURS_PER_YEAR * weights.reliability
            if weights.reliability
            else 0.0,
            "switching": ops * weights.switching_cost,
        }
        cost["total"] = sum(cost.values())
        vm = flow.vm_pu[t]
        out.append(
            PeriodAssessment(
                radial=not reasons,
                reasons=reasons,
                open_lines=line_index[~x].tolist(),
                opened=line_index[previous & ~x].tolist(),
                closed=line_index[~previous & x].tolist(),
                switching_operations=ops,
                converged=bool(flow.converged[t]),
                losses_mw=float(flow.losses_mw[t]),
                vm_min_pu=float(np.nanmin(vm)) if np.isfinite(vm).any() else float("nan"),
                vm_max_pu=float(np.nanmax(vm)) if np.isfinite(vm).any() else float("nan"),
                line_loading_max_percent=_max(flow.line_loading_percent[t]),
                trafo_loading_max_percent=_max(flow.trafo_loading_percent[t]),
                violations=violations,
                eens_mwh_per_year=eens,
                interruption_cost_per_year=rel_cost,
                cost=cost,
            )
        )
        previous = x
    period_h = periods.duration_h
    reasons = [f"period {t}: {r}" for t, p in enumerate(out) for r in p.reasons]
    reasons += [
        f"period {t}: power flow did not converge" for t, p in enumerate(out) if not p.converged
    ]
    reasons += [f"period {t}: {v}" for t, p in enumerate(out) for v in p.violations[:3]]
    total = {k: float(sum(p.cost[k] for p in out)) for k in out[0].cost}
    return Assessment(
        feasible=not reasons,
        reasons=reasons,
        losses_mwh=float(np.dot([p.losses_mw for p in out], period_h)),
        eens_mwh_per_year=float(
            np.dot([p.eens_mwh_per_year for p in out], period_h) / period_h.sum()
        ),
        interruption_cost_per_year=float(
            np.dot([p.interruption_cost_per_year for p in out], period_h) / period_h.sum()
        ),
        switching_operations=int(sum(p.switching_operations for p in out)),
        vm_min_pu=float(np.nanmin([p.vm_min_pu for p in out])),
        line_loading_max_percent=_max(np.array([p.line_loading_max_percent for p in out])),
        cost=total,
        periods=out,
    )


def _max(values: np.ndarray) -> float:
    return float(np.nanmax(values)) if np.isfinite(values).any() else float("nan")


def _violations(
    problem: Problem,
    vm: np.ndarray,
    line_loading: np.ndarray,
    trafo_loading: np.ndarray,
    bus_names: np.ndarray,
    net_lines: np.ndarray,
    net_trafos: np.ndarray,
) -> list[str]:
    tol = 1e-6
    out = []
    for i in np.flatnonzero(vm < problem.vm_min_pu - tol):
        out.append(f"bus {bus_names[i]}: {vm[i]:.4f} pu < {problem.vm_min_pu[i]:.3f} pu")
    for i in np.flatnonzero(vm > problem.vm_max_pu + tol):
        out.append(f"bus {bus_names[i]}: {vm[i]:.4f} pu > {problem.vm_max_pu[i]:.3f} pu")
    for i in np.flatnonzero(line_loading > problem.line_max_loading_percent):
        out.append(
            f"line {net_lines[i]}: loading {line_loading[i]:.1f} % > "
            f"{problem.line_max_loading_percent[i]:.0f} %"
        )
    for i in np.flatnonzero(trafo_loading > problem.trafo_max_loading_percent):
        out.append(
            f"trafo {net_trafos[i]}: loading {trafo_loading[i]:.1f} % > "
            f"{problem.trafo_max_loading_percent[i]:.0f} %"
        )
    return out
