"""Protection: which breaker a line fault trips and which switches see fault current.

Pure helpers over a pandapower net's topology (no mosaik, no power flow).

The net is read as a *device graph*: one node per bus, per line and per
transformer; a line (transformer) node connects to each of its end buses,
through the switch that sits at that end if there is one (pandapower
``et == 'l'`` / ``'t'``), else directly; a bus-bus switch (``et == 'b'``)
links two bus nodes. An edge conducts if its element is in service and its
switch (if any) is closed. Sources are the buses of ``net.ext_grid``.

A fault on a line draws fault current along the (radial) path from a source
to the line: every closed switch on that path sees it (that is what a fault
passage indicator there reports). The path's breaker nearest the fault trips:
a switch of ``type == 'CB'`` (SimBench marks the feeder breakers at the
substation busbar this way); without any breaker on the path, the path's
switch nearest the source (the feeder head). If the faulted line is still fed
after the trip (a closed loop), the next path's breaker trips too.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import pandapower as pp

__all__ = ["DeviceGraph", "FaultTrip", "trip_for_fault"]


@dataclass(frozen=True, slots=True)
class DeviceGraph:
    """The device graph of a net (see the module docstring), as edge arrays.

    Attributes
    ----------
    n_bus, n_line, n_trafo : int
        Element counts; line ``l`` is node ``n_bus + l``, transformer ``t`` is
        node ``n_bus + n_line + t``.
    edge_a, edge_b : ndarray of int
        Edge end nodes.
    edge_switch : ndarray of int
        The switch position on each edge, -1 for a fixed connection.
    edge_line, edge_trafo : ndarray of int
        The line (transformer) position an edge belongs to, -1 otherwise.
    source_nodes : ndarray of int
        Nodes of the external grids' buses.
    switch_is_cb : ndarray of bool
        Per switch: a circuit breaker (``type == 'CB'``).
    """

    n_bus: int
    n_line: int
    n_trafo: int
    edge_a: np.ndarray
    edge_b: np.ndarray
    edge_switch: np.ndarray
    edge_line: np.ndarray
    edge_trafo: np.ndarray
    source_nodes: np.ndarray
    switch_is_cb: np.ndarray

    @classmethod
    def from_net(cls, net: pp.pandapowerNet) -> DeviceGraph:
        """Build the device graph of ``net`` (positions, not index labels)."""
        bus_pos = {idx: i for i, idx in enumerate(net.bus.index)}
        n_bus, n_line, n_trafo = len(net.bus), len(net.line), len(net.trafo)
        sw = net.switch
        at_end: dict[tuple[str, int, int], int] = {}
        line_pos = {idx: i for i, idx in enumerate(net.line.index)}
        trafo_pos = {idx: i for i, idx in enumerate(net.trafo.index)}
        a, b, s, el, et_ = [], [], [], [], []
        for pos, (et, element, bus) in enumerate(
            zip(sw["et"].to_numpy(), sw["element"].to_numpy(), sw["bus"].to_numpy(), strict=True)
        ):
            if et == "l":
                at_end[("l", line_pos[element], bus_pos[bus])] = pos
            elif et == "t":
                at_end[("t", trafo_pos[element], bus_pos[bus])] = pos
            elif et == "b":
                a.append(bus_pos[bus])
                b.append(bus_pos[element])
                s.append(pos)
                el.append(-1)
                et_.append(-1)
        for i, (fb, tb) in enumerate(
            zip(net.line["from_bus"].to_numpy(), net.line["to_bus"].to_numpy(), strict=True)
        ):
            for end in (bus_pos[fb], bus_pos[tb]):
                a.append(end)
                b.append(n_bus + i)
                s.append(at_end.get(("l", i, end), -1))
                el.append(i)
                et_.append(-1)
        for i, (hv, lv) in enumerate(
            zip(net.trafo["hv_bus"].to_numpy(), net.trafo["lv_bus"].to_numpy(), strict=True)
        ):
            for end in (bus_pos[hv], bus_pos[lv]):
                a.append(end)
                b.append(n_bus + n_line + i)
                s.append(at_end.get(("t", i, end), -1))
                el.append(-1)
                et_.append(i)
        kind = sw["type"].astype(str).to_numpy() if "type" in sw else np.full(len(sw), "")
        return cls(
            n_bus=n_bus,
            n_line=n_line,
            n_trafo=n_trafo,
            edge_a=np.asarray(a, dtype=np.int64),
            edge_b=np.asarray(b, dtype=np.int64),
            edge_switch=np.asarray(s, dtype=np.int64),
            edge_line=np.asarray(el, dtype=np.int64),
            edge_trafo=np.asarray(et_, dtype=np.int64),
            source_nodes=np.array([bus_pos[x] for x in net.ext_grid["bus"]], dtype=np.int64),
            switch_is_cb=kind == "CB",
        )

    @property
    def n_nodes(self) -> int:
        """Buses, lines and transformers."""
        return self.n_bus + self.n_line + self.n_trafo

    def line_node(self, line: int) -> int:
        """The node of line position ``line``."""
        return self.n_bus + line

    def live(
        self,
        switch_closed: np.ndarray,
        line_in_service: np.ndarray,
        trafo_in_service: np.ndarray | None = None,
    ) -> np.ndarray:
        """Per edge: conducting (element in service, switch closed or absent)."""
        ok = np.ones(len(self.edge_a), dtype=bool)
        has_sw = self.edge_switch >= 0
        ok[has_sw] = switch_closed[self.edge_switch[has_sw]]
        is_line = self.edge_line >= 0
        ok[is_line] &= line_in_service[self.edge_line[is_line]]
        if trafo_in_service is not None:
            is_tr = self.edge_trafo >= 0
            ok[is_tr] &= trafo_in_service[self.edge_trafo[is_tr]]
        return ok

    def search(self, live: np.ndarray, starts: np.ndarray | None = None) -> np.ndarray:
        """Breadth-first search from ``starts`` (default the sources) over live edges.

        Returns
        -------
        ndarray of int
            Per node, the edge it was reached through; -1 for a start node,
            -2 for a node not reached.
        """
        starts = self.source_nodes if starts is None else starts
        adj: list[list[tuple[int, int]]] = [[] for _ in range(self.n_nodes)]
        for e in np.flatnonzero(live):
            a, b = int(self.edge_a[e]), int(self.edge_b[e])
            adj[a].append((b, int(e)))
            adj[b].append((a, int(e)))
        parent = np.full(self.n_nodes, -2, dtype=np.int64)
        queue = deque(int(n) for n in starts)
        for n in starts:
            parent[n] = -1
        while queue:
            x = queue.popleft()
            for y, edge in adj[x]:
                if parent[y] == -2:
                    parent[y] = edge
                    queue.append(y)
        return parent

    def path_edges(self, parent: np.ndarray, node: int) -> list[int]:
        """Edges from ``node`` back to its start, nearest first (empty if not reached)."""
        out: list[int] = []
        while parent[node] >= 0:
            e = int(parent[node])
            out.append(e)
            node = int(self.edge_a[e] if self.edge_b[e] == node else self.edge_b[e])
        return out


@dataclass(frozen=True, slots=True)
class FaultTrip:
    """What protection does about a fault on one line.

    Attributes
    ----------
    breakers : tuple of int
        Switch positions that trip (open).
    passed : tuple of int
        Switch positions that saw fault current (fault passage indicators).
    """

    breakers: tuple[int, ...]
    passed: tuple[int, ...]


def trip_for_fault(
    graph: DeviceGraph,
    switch_closed: np.ndarray,
    line_in_service: np.ndarray,
    line: int,
    trafo_in_service: np.ndarray | None = None,
) -> FaultTrip:
    """The breakers that trip and the switches that see fault current for a fault on ``line``.

    Parameters
    ----------
    graph : DeviceGraph
        The net's device graph.
    switch_closed, line_in_service : ndarray of bool
        Positions before the fault (not modified).
    line : int
        Position of the faulted line.

    Returns
    -------
    FaultTrip
        Empty if no source feeds the line (nothing trips).
    """
    closed = np.asarray(switch_closed, dtype=bool).copy()
    breakers: list[int] = []
    passed: list[int] = []
    node = graph.line_node(line)
    for _ in range(len(graph.source_nodes) + len(closed) + 1):
        parent = graph.search(graph.live(closed, line_in_service, trafo_in_service))
        path = graph.path_edges(parent, node)
        switches = [int(graph.edge_switch[e]) for e in path if graph.edge_switch[e] >= 0]
        if not switches:
            break  # not fed, or fed without any switch: nothing can trip
        passed.extend(s for s in switches if s not in passed)
        cbs = [s for s in switches if graph.switch_is_cb[s]]
        trip = cbs[0] if cbs else switches[-1]
        breakers.append(trip)
        closed[trip] = False
    return FaultTrip(tuple(breakers), tuple(sorted(passed)))
