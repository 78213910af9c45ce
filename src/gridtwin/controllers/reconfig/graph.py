"""Radial configurations as spanning trees of the contracted graph.

Functions over a :class:`~gridtwin.controllers.reconfig.problem.Problem`'s
node graph: radiality checks with reasons, repair of a meshed or islanded
configuration, fundamental cycles for branch exchange, and counting
(Kirchhoff's matrix-tree theorem) and listing of all radial configurations.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from gridtwin.controllers.reconfig.problem import Problem, _components

__all__ = ["Tree", "count_radial", "enumerate_radial", "is_radial", "radial_reasons", "repair"]


def is_radial(problem: Problem, closed: np.ndarray) -> bool:
    """True if ``closed`` is radial and supplies every node (a spanning tree)."""
    closed = np.asarray(closed, dtype=bool)
    if (closed & ~problem.usable & (problem.edge_u == problem.edge_v)).any():
        return False
    on = closed & problem.usable
    if int(on.sum()) != problem.n_node - 1:
        return False
    comp = _components(problem.n_node, problem.edge_u[on], problem.edge_v[on])
    return bool((comp == comp[0]).all())


def radial_reasons(problem: Problem, closed: np.ndarray) -> list[str]:
    """Why ``closed`` is not a radial supply of every load; empty if it is."""
    closed = np.asarray(closed, dtype=bool)
    names = [problem.line_names[p] for p in problem.line_pos]
    reasons: list[str] = []
    parent = list(range(problem.n_node))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    loops = []
    for i in np.flatnonzero(closed):
        u, v = int(problem.edge_u[i]), int(problem.edge_v[i])
        if u < 0 or v < 0:
            if not problem.usable[i] and _same_node(problem, int(i)):
                loops.append(names[i])
            continue
        ru, rv = find(u), find(v)
        if ru == rv:
            loops.append(names[i])
        else:
            parent[ru] = rv
    if loops:
        reasons.append(
            f"meshed: {len(loops)} loop(s) closed (e.g. by {', '.join(loops[:3])}); "
            "expected a radial grid"
        )
    root = find(0)
    dead_nodes = {n for n in range(problem.n_node) if find(n) != root}
    if dead_nodes:
        node_of_bus = problem.node_of_bus
        load_node = node_of_bus[problem.load_bus]
        unsupplied = [
            n for n, ln in zip(problem.net.load.index, load_node, strict=True) if ln in dead_nodes
        ]
        dead_buses = int(np.isin(node_of_bus, list(dead_nodes)).sum())
        what = f"{dead_buses} bus(es) without supply"
        if unsupplied:
            what += f", loads {unsupplied[:5]}{' ...' if len(unsupplied) > 5 else ''} not supplied"
        reasons.append(what + "; expected every load supplied from a source")
    return reasons


def _same_node(problem: Problem, i: int) -> bool:
    pos = problem.line_pos[i]
    a, b = problem.node_of_bus[problem.br_from[pos]], problem.node_of_bus[problem.br_to[pos]]
    return bool(a >= 0 and a == b)


def repair(problem: Problem, closed: np.ndarray) -> np.ndarray:
    """The radial configuration closest to ``closed`` (fewest lines changed).

    Kruskal's algorithm with closed lines first (then lower resistance) keeps
    as many of the closed lines as a spanning tree can hold, so it opens what
    closes loops and closes what re-connects islands.
    """
    closed = np.asarray(closed, dtype=bool)
    if is_radial(problem, closed):
        return closed.copy()
    net = problem.net
    r_ohm = (net.line["r_ohm_per_km"] * net.line["length_km"]).to_numpy(dtype=float)
    r_ohm = r_ohm[problem.line_pos]
    usable = np.flatnonzero(problem.usable)
    order = usable[np.lexsort((r_ohm[usable], ~closed[usable]))]
    parent = np.arange(problem.n_node)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    out = np.zeros(problem.m, dtype=bool)
    for i in order:
        ru, rv = find(int(problem.edge_u[i])), find(int(problem.edge_v[i]))
        if ru != rv:
            parent[ru] = rv
            out[i] = True
    return out


class Tree:
    """A radial configuration as a tree rooted at the sources, for branch exchange.

    Parameters
    ----------
    problem : Problem
    closed : ndarray of bool, shape (m,)
        A radial configuration (see :func:`is_radial`).
    """

    def __init__(self, problem: Problem, closed: np.ndarray) -> None:
        self.problem = problem
        self.closed = np.asarray(closed, dtype=bool)
        n = problem.n_node
        adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        for pos in np.flatnonzero(self.closed & problem.usable):
            a, b = int(problem.edge_u[pos]), int(problem.edge_v[pos])
            adj[a].append((b, int(pos)))
            adj[b].append((a, int(pos)))
        parent = [-1] * n
        parent_edge = [-1] * n
        depth = [0] * n
        seen = [False] * n
        seen[0] = True
        queue = deque([0])
        while queue:
            u = queue.popleft()
            for v, e in adj[u]:
                if not seen[v]:
                    seen[v] = True
                    parent[v], parent_edge[v], depth[v] = u, e, depth[u] + 1
                    queue.append(v)
        self.parent, self.parent_edge, self.depth = parent, parent_edge, depth

    def cycle(self, tie: int) -> list[int]:
        """The closed lines on the loop that closing line ``tie`` would make."""
        u, v = int(self.problem.edge_u[tie]), int(self.problem.edge_v[tie])
        out: list[int] = []
        depth, parent, pe = self.depth, self.parent, self.parent_edge
        while depth[u] > depth[v]:
            out.append(pe[u])
            u = parent[u]
        while depth[v] > depth[u]:
            out.append(pe[v])
            v = parent[v]
        while u != v:
            out.append(pe[u])
            out.append(pe[v])
            u, v = parent[u], parent[v]
        return out

    def neighbours(self) -> np.ndarray:
        """All radial configurations one branch exchange away, shape (k, m)."""
        rows: list[np.ndarray] = []
        for tie in np.flatnonzero(~self.closed & self.problem.usable):
            cyc = self.cycle(int(tie))
            if not cyc:
                continue
            block = np.repeat(self.closed[None, :], len(cyc), axis=0)
            block[:, tie] = True
            block[np.arange(len(cyc)), cyc] = False
            rows.append(block)
        if not rows:
            return np.zeros((0, self.problem.m), dtype=bool)
        return np.concatenate(rows)

    def random_exchange(self, rng: np.random.Generator) -> np.ndarray:
        """One random branch exchange (close a random tie, open a random line of its loop)."""
        ties = np.flatnonzero(~self.closed & self.problem.usable)
        out = self.closed.copy()
        if len(ties) == 0:
            return out
        tie = int(rng.choice(ties))
        cyc = self.cycle(tie)
        out[tie] = True
        out[int(rng.choice(cyc))] = False
        return out


def count_radial(problem: Problem) -> float:
    """Number of radial configurations (spanning trees), by Kirchhoff's theorem."""
    n = problem.n_node
    if n <= 1:
        return 1.0
    u, v = problem.edge_u[problem.usable], problem.edge_v[problem.usable]
    lap = np.zeros((n, n))
    np.add.at(lap, (u, v), -1.0)
    np.add.at(lap, (v, u), -1.0)
    np.add.at(lap, (u, u), 1.0)
    np.add.at(lap, (v, v), 1.0)
    sign, logdet = np.linalg.slogdet(lap[1:, 1:])
    return float(np.exp(logdet)) if sign > 0 else 0.0


def enumerate_radial(problem: Problem) -> np.ndarray:
    """Every radial configuration, shape (n_configs, m); use for small grids only."""
    edges = np.flatnonzero(problem.usable)
    need = problem.n_node - 1
    eu = problem.edge_u.tolist()
    ev = problem.edge_v.tolist()
    found: list[list[int]] = []
    chosen: list[int] = []

    def find(parent: list[int], x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    def walk(i: int, parent: list[int]) -> None:
        if len(chosen) == need:
            found.append(list(chosen))
            return
        if len(edges) - i < need - len(chosen):
            return
        e = int(edges[i])
        ru, rv = find(parent, eu[e]), find(parent, ev[e])
        if ru != rv:
            joined = parent.copy()
            joined[ru] = rv
            chosen.append(e)
            walk(i + 1, joined)
            chosen.pop()
        walk(i + 1, parent)

    walk(0, list(range(problem.n_node)))
    out = np.zeros((len(found), problem.m), dtype=bool)
    for k, tree in enumerate(found):
        out[k, tree] = True
    return out
