"""Expected energy not supplied of a radial configuration, the RELRAD way.

For every line fault (rate ``λ`` [1/a]) the protecting breaker trips: the
nearest breaker at or above the line (a line marked ``breaker``, else the
feeder breaker at the head of the feeder). Every line has disconnectors at
both ends, so after the sectioning time ``r_s`` the fault is isolated and the
breaker re-closed: loads below the breaker but not below the faulted line are
back after ``r_s``. Loads below the faulted line are back after ``r_s`` too if
an open switchable line (a tie) joins their part of the grid to the rest,
else after the repair time ``r_r``. Tie capacity is not checked. Then, per
bus ``u``,

    U_u = Σ_k λ_k r_ku   [h/a],        f_u = Σ_k λ_k [r_ku > 0]   [1/a],

and the expected energy not supplied is ``EENS = Σ_loads P_load U_bus``
[MWh/a], its cost ``Σ_loads P_load U_bus c_load`` with ``c`` the specific
cost of the load's customer category [EUR/kWh].

References
----------
R. Billinton, R. N. Allan, *Reliability Evaluation of Power Systems*, 2nd ed.,
Plenum, 1996, ch. 7 (radial distribution systems).
G. Kjølle, K. Sand, "RELRAD - an analytical approach for distribution system
reliability assessment", IEEE Trans. Power Delivery 7(2), 1992.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, depth_first_order

from gridtwin.controllers.reconfig.problem import Periods, Problem

__all__ = ["BusReliability", "bus_reliability", "load_reliability"]

_KWH_PER_MWH = 1e3


@dataclass(frozen=True, slots=True)
class BusReliability:
    """Per-bus reliability indices of one configuration.

    Attributes
    ----------
    unavailability_h_per_year : ndarray, shape (n_bus,)
        Expected outage time per year [h/a].
    interruptions_per_year : ndarray, shape (n_bus,)
        Expected number of interruptions per year [1/a].
    """

    unavailability_h_per_year: np.ndarray
    interruptions_per_year: np.ndarray


def bus_reliability(problem: Problem, closed: np.ndarray) -> BusReliability:
    """RELRAD indices of every bus for the radial configuration ``closed``."""
    p, rel = problem, problem.reliability
    n_bus = len(p.net.bus)
    root = n_bus  # a virtual bus above all sources
    sw_idx = p.br_switchable
    on = p.br_fixed_closed.copy()
    has_sw = sw_idx >= 0
    on[has_sw] = np.asarray(closed, dtype=bool)[sw_idx[has_sw]]
    br = np.flatnonzero(on)
    a = np.concatenate([p.br_from[br], np.full(len(p.source_bus), root)])
    b = np.concatenate([p.br_to[br], p.source_bus])
    width = n_bus + 1
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(width, width)).tocsr()
    order, parent = breadth_first_order(graph, root, directed=False)
    # the branch joining each bus to its parent (the first closed one of parallel branches)
    ids = np.concatenate([br, np.full(len(p.source_bus), -1)])
    pairs, first = np.unique(np.minimum(a, b) * width + np.maximum(a, b), return_index=True)
    child = order[1:]
    par = parent[child]
    keys = np.minimum(par, child) * width + np.maximum(par, child)
    parent_branch = np.full(width, -1)
    parent_branch[child] = ids[first[np.searchsorted(pairs, keys)]]
    line_of = np.where(parent_branch >= 0, p.br_line[np.maximum(parent_branch, 0)], -1)
    is_line = line_of >= 0

    # preorder positions and subtree sizes: u is below v iff tin[v] <= tin[u] < tin[v] + size[v]
    tree = coo_matrix((np.ones(len(child)), (par, child)), shape=(width, width)).tocsr()
    pre = depth_first_order(tree, root, directed=True, return_predecessors=False)
    tin = np.full(width, -1, dtype=np.int64)
    tin[pre] = np.arange(len(pre))
    breaker_line = np.zeros(width, dtype=bool)
    breaker_line[is_line] = rel.breaker[line_of[is_line]]
    size, brk = _sizes_and_breakers(child.tolist(), parent.tolist(), is_line, breaker_line)

    faulted = np.flatnonzero(is_line)
    lines = line_of[faulted]
    lam = rel.fault_rate_per_year[lines]
    keep = lam > 0
    faulted, lines, lam = faulted[keep], lines[keep], lam[keep]
    buses = np.arange(n_bus)

    def below(tops: np.ndarray) -> np.ndarray:
        lo = tin[tops][:, None]
        return (tin[buses][None, :] >= lo) & (tin[buses][None, :] < lo + size[tops][:, None])

    down = below(faulted)  # (faults, buses)
    tripped = below(brk[faulted])
    # ties: open switchable lines between live buses, for restoring the part below a fault
    tie = np.flatnonzero(~np.asarray(closed, dtype=bool))
    tie_pos = p.line_pos[tie]
    ta, tb = p.br_from[tie_pos], p.br_to[tie_pos]
    live = p.node_of_bus >= 0
    ok = live[ta] & live[tb]
    ta, tb = ta[ok], tb[ok]
    restorable = (down[:, ta] ^ down[:, tb]).any(axis=1) if len(ta) else np.zeros(len(lam), bool)
    rs = rel.sectioning_time_h[lines]
    rr = rel.repair_time_h[lines]
    r_down = np.where(restorable, np.minimum(rs, rr), rr)
    r = np.where(down, r_down[:, None], np.where(tripped, rs[:, None], 0.0))
    return BusReliability(
        unavailability_h_per_year=lam @ r,
        interruptions_per_year=lam @ (r > 0),
    )


def _sizes_and_breakers(
    child: list[int], parent: list[int], is_line: np.ndarray, breaker_line: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Subtree sizes and protecting breakers over a BFS order (``child``: the order less the root).

    The protecting breaker of a bus is the nearest bus at or above it whose
    parent branch is a line that is a breaker or the first line below the
    source (the feeder breaker).
    """
    width = len(parent)
    size = [1] * width
    for v in reversed(child):
        size[parent[v]] += size[v]
    own_line, own_breaker = is_line.tolist(), breaker_line.tolist()
    brk = [-1] * width
    line_above = [False] * width
    for v in child:
        up = parent[v]
        own = own_line[v] and (own_breaker[v] or not line_above[up])
        brk[v] = v if own else brk[up]
        line_above[v] = line_above[up] or own_line[v]
    return np.array(size, dtype=np.int64), np.array(brk, dtype=np.int64)


def load_reliability(
    problem: Problem, indices: BusReliability, periods: Periods
) -> tuple[np.ndarray, np.ndarray]:
    """Expected energy not supplied and its cost per period, at each period's loads.

    Returns
    -------
    eens_mwh_per_year : ndarray, shape (n_periods,)
        [MWh/a] if the period's loads held all year.
    cost_per_year : ndarray, shape (n_periods,)
        [EUR/a] likewise.
    """
    u_load = indices.unavailability_h_per_year[problem.load_bus]
    energy = periods.load_p_mw * u_load[None, :]  # (T, n_load) [MWh/a]
    cost = energy @ problem.reliability.load_cost_per_kwh * _KWH_PER_MWH
    return energy.sum(axis=1), cost
