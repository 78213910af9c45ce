"""FLISR: locate a fault from fault passage indicators, isolate it, restore around it.

Pure (no mosaik). The algorithm sees what a control centre sees: the network
model (a :class:`~gridtwin.grid.protection.DeviceGraph`), switch and breaker
positions, line status indications, the fault passage indicators at the
switches, and crews' repair reports. It never sees the faulted line itself.

Sections are the parts of the device graph that no switch separates. A fault
current path runs from a source through a chain of sections; the faulted
section is the one (not containing a source) with exactly one boundary switch
whose indicator picked up: fault current went in and nowhere out.

On a tripped breaker (open, normally closed, its indicator set, not opened by
FLISR, open for ``confirm_s``), FLISR plans, in this order, each operation
taking the switch's operation time (remote or manual) after the previous one:

1. open the closed boundary switches of the located section(s) (isolation),
2. reclose the breaker (upstream restoration; not if the breaker itself
   bounds the faulted section),
3. close open switches that join a dead part to a live one (tie switches to
   neighbouring feeders), one at a time, each only if the ``feasible`` check
   (a power flow within voltage and loading limits) accepts the resulting
   configuration; a tie into the faulted section never closes. Closing a
   switch between a dead and a live part keeps a radial grid radial.

On a repair report for a line of an isolated section, or when the
indicators around it reset (the fault is gone, e.g. a temporary fault cleared
by the breaker's reclose), it returns to the normal configuration: close the
isolation switches (a short closed-loop transfer), then open the ties it
closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gridtwin.grid.protection import DeviceGraph

__all__ = ["Flisr", "Incident", "Operation", "locate", "restoration_ties", "sections"]


def sections(graph: DeviceGraph, merged: np.ndarray | None = None) -> np.ndarray:
    """Section id per node: components of the device graph without its switch edges.

    Parameters
    ----------
    merged : ndarray of bool, optional
        Per switch: treat it as a fixed connection (a normally closed switch
        without a fault passage indicator: FLISR cannot tell its two sides apart).
    """
    parent = np.arange(graph.n_nodes)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    fixed = graph.edge_switch < 0
    if merged is not None:
        fixed |= (graph.edge_switch >= 0) & merged[np.maximum(graph.edge_switch, 0)]
    for e in np.flatnonzero(fixed):
        ra, rb = find(int(graph.edge_a[e])), find(int(graph.edge_b[e]))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(graph.n_nodes)], dtype=np.int64)


def _switch_edges(graph: DeviceGraph) -> dict[int, int]:
    return {int(graph.edge_switch[e]): int(e) for e in np.flatnonzero(graph.edge_switch >= 0)}


def boundary(graph: DeviceGraph, sec: np.ndarray, section: int) -> list[int]:
    """Switch positions with exactly one side in ``section``, ascending."""
    out = []
    for e in np.flatnonzero(graph.edge_switch >= 0):
        sa, sb = sec[graph.edge_a[e]], sec[graph.edge_b[e]]
        if (sa == section) != (sb == section):
            out.append(int(graph.edge_switch[e]))
    return sorted(out)


def locate(graph: DeviceGraph, sec: np.ndarray, fault_passed: np.ndarray) -> list[int]:
    """Sections where fault current went in and nowhere out, ascending.

    Parameters
    ----------
    sec : ndarray of int
        :func:`sections` of ``graph``.
    fault_passed : ndarray of bool
        Per switch: its fault passage indicator picked up.
    """
    sources = set(sec[graph.source_nodes].tolist())
    flagged_edges = [
        e
        for e in np.flatnonzero(graph.edge_switch >= 0)
        if fault_passed[graph.edge_switch[e]] and sec[graph.edge_a[e]] != sec[graph.edge_b[e]]
    ]
    count: dict[int, int] = {}
    for e in flagged_edges:
        for s in (int(sec[graph.edge_a[e]]), int(sec[graph.edge_b[e]])):
            count[s] = count.get(s, 0) + 1
    return sorted(s for s, n in count.items() if n == 1 and s not in sources)


def restoration_ties(
    graph: DeviceGraph,
    sec: np.ndarray,
    closed: np.ndarray,
    line_in_service: np.ndarray,
    *,
    blocked: set[int],
    faulted: set[int],
    feasible: Callable[[np.ndarray], bool],
    split: bool = True,
) -> list[tuple[int, bool]]:
    """Switchings ``(switch, close)``, in order, that restore dead parts from live ones.

    A tie whose closing the ``feasible`` check rejects may still restore part
    of the dead area: with ``split``, FLISR tries opening each closed switch
    inside the area the tie would feed and keeps the feasible split that
    restores the most nodes (the rest may come back through another tie).

    Parameters
    ----------
    closed : ndarray of bool
        Switch positions after isolation and reclosing (not modified).
    blocked : set of int
        Switches that must stay open (the isolation switches).
    faulted : set of int
        Section ids that must stay dead.
    feasible : callable
        ``feasible(switch_closed) -> bool``: the configuration keeps voltages
        and loadings within limits.
    split : bool
        Try partial restoration through a rejected tie (see above).
    """
    closed = np.asarray(closed, dtype=bool).copy()
    chosen: list[tuple[int, bool]] = []
    rejected: set[int] = set()
    while True:
        live = graph.search(graph.live(closed, line_in_service)) != -2
        progress = False
        for e in np.flatnonzero(graph.edge_switch >= 0):
            s = int(graph.edge_switch[e])
            a, b = int(graph.edge_a[e]), int(graph.edge_b[e])
            if closed[s] or s in blocked or s in rejected:
                continue
            if sec[a] in faulted or sec[b] in faulted or live[a] == live[b]:
                continue
            trial = closed.copy()
            trial[s] = True
            if feasible(trial):
                closed = trial
                chosen.append((s, True))
                progress = True
                break
            cut = (
                _best_split(graph, trial, line_in_service, live, blocked, feasible)
                if split
                else None
            )
            if cut is not None:
                closed = trial
                closed[cut] = False
                chosen += [(cut, False), (s, True)]
                progress = True
                break
            rejected.add(s)
        if not progress:
            return chosen


def _best_split(
    graph: DeviceGraph,
    trial: np.ndarray,
    line_in_service: np.ndarray,
    live_before: np.ndarray,
    blocked: set[int],
    feasible: Callable[[np.ndarray], bool],
) -> int | None:
    """The closed switch inside the newly fed area whose opening makes ``trial`` feasible
    and keeps the most nodes fed (lowest position on ties); None if there is none."""
    fed = graph.search(graph.live(trial, line_in_service)) != -2
    new = fed & ~live_before
    best: tuple[int, int] | None = None
    for e in np.flatnonzero(graph.edge_switch >= 0):
        c = int(graph.edge_switch[e])
        if not trial[c] or c in blocked or not (new[graph.edge_a[e]] and new[graph.edge_b[e]]):
            continue
        cand = trial.copy()
        cand[c] = False
        gain = int((graph.search(graph.live(cand, line_in_service)) != -2)[: graph.n_bus].sum())
        if (best is None or gain > best[0]) and feasible(cand):
            best = (gain, c)
    return None if best is None else best[1]


@dataclass(frozen=True, slots=True)
class Operation:
    """One switching FLISR orders, done at ``due_s`` [s]."""

    due_s: int
    switch: int
    close: bool
    reason: str  # "isolate", "reclose", "restore", "return"


@dataclass(slots=True)
class Incident:
    """One tripped breaker and what FLISR did about it (times in [s])."""

    detected_s: int
    breakers: tuple[int, ...]
    sections: tuple[int, ...]
    lines: tuple[int, ...]
    isolation: tuple[int, ...] = ()
    reclosed: tuple[int, ...] = ()
    ties: tuple[int, ...] = ()
    restored_s: int | None = None
    returned_s: int | None = None


@dataclass(slots=True)
class Flisr:
    """The FLISR automation function (stateful, pure).

    Parameters
    ----------
    graph : DeviceGraph
        The network model.
    normal_closed : ndarray of bool
        The normal switch configuration.
    feasible : callable
        ``feasible(switch_closed, line_in_service) -> bool``.
    remote : ndarray of bool
        Per switch: remote-controlled (else a crew operates it).
    remote_time_s, manual_time_s : int
        Operation time of a remote / manual switching [s].
    confirm_s : int
        A breaker counts as tripped once seen open this long [s] (0: at once).
    indicators : ndarray of bool, optional
        Per switch: it has a fault passage indicator (default: all have one;
        breakers always count as having one). Normally closed switches without
        one join the sections on their two sides, so location is coarser.
    """

    graph: DeviceGraph
    normal_closed: np.ndarray
    feasible: Callable[[np.ndarray, np.ndarray], bool]
    remote: np.ndarray
    remote_time_s: int = 30
    manual_time_s: int = 3600
    confirm_s: int = 0
    indicators: np.ndarray | None = None
    sec: np.ndarray = field(init=False)
    line_section: np.ndarray = field(init=False)
    pending: list[Operation] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    ours: dict[int, bool] = field(default_factory=dict)
    open_since: dict[int, int] = field(default_factory=dict)
    isolated: set[int] = field(default_factory=set)
    expect: dict[int, tuple[bool, int]] = field(default_factory=dict)
    reissued: int = 0

    def __post_init__(self) -> None:
        if self.indicators is not None:  # breakers report their own trips (relays)
            self.indicators = np.asarray(self.indicators, bool) | self.graph.switch_is_cb
            self.sec = sections(self.graph, self.normal_closed & ~self.indicators)
        else:
            self.sec = sections(self.graph)
        self.line_section = self.sec[self.graph.n_bus : self.graph.n_bus + self.graph.n_line]

    def _op_time(self, switch: int) -> int:
        return self.remote_time_s if self.remote[switch] else self.manual_time_s

    def _schedule(self, time_s: int, switches: list[int], close: bool, reason: str) -> int:
        cursor = max([time_s, *(op.due_s for op in self.pending)])
        for s in switches:
            cursor += self._op_time(s)
            self.pending.append(Operation(cursor, s, close, reason))
            self.ours[s] = close
        return cursor

    def observe(
        self,
        time_s: int,
        switch_closed: np.ndarray,
        line_in_service: np.ndarray,
        fault_passed: np.ndarray,
        repaired_lines: tuple[int, ...] = (),
    ) -> None:
        """Take in one step's indications; plan operations for new trips and repairs."""
        closed = np.asarray(switch_closed, dtype=bool)
        fault_passed = np.asarray(fault_passed, dtype=bool)
        if self.indicators is not None:
            fault_passed = fault_passed & self.indicators
        self._confirm(time_s, closed, fault_passed)
        for line in repaired_lines:
            self._return(time_s, closed, int(line))
        still = set(locate(self.graph, self.sec, fault_passed))
        for incident in self.incidents:
            if incident.sections and incident.returned_s is None:
                if not still & set(incident.sections):  # indicators reset: the fault is gone
                    self._return(time_s, closed, incident.lines[0])
        tripped = []
        for pos in np.flatnonzero(~closed & self.normal_closed & fault_passed):
            s = int(pos)
            if self.ours.get(s) is False or any(op.switch == s for op in self.pending):
                continue
            since = self.open_since.setdefault(s, time_s)
            if time_s - since >= self.confirm_s:
                tripped.append(s)
        for s in list(self.open_since):
            if closed[s]:
                del self.open_since[s]
        if tripped:
            self._incident(time_s, closed, np.asarray(line_in_service, bool), fault_passed, tripped)

    def _incident(
        self,
        time_s: int,
        closed: np.ndarray,
        line_in_service: np.ndarray,
        fault_passed: np.ndarray,
        tripped: list[int],
    ) -> None:
        for s in tripped:
            self.open_since.pop(s, None)
            self.ours[s] = False  # handled: not a new trip until FLISR closes it
        located = locate(self.graph, self.sec, fault_passed)
        found = [s for s in located if s not in self.isolated]
        if not located:
            self.incidents.append(Incident(time_s, tuple(tripped), (), ()))
            return  # not located: wait for the crews
        if found:
            lines = tuple(int(x) for x in np.flatnonzero(np.isin(self.line_section, found)))
            incident = Incident(time_s, tuple(tripped), tuple(found), lines)
            self.incidents.append(incident)
        else:  # every located fault is isolated already (a reclose got lost): reclose again
            incident = next(i for i in reversed(self.incidents) if set(i.sections) & set(located))
        iso = sorted(
            {s for section in found for s in boundary(self.graph, self.sec, section) if closed[s]}
        )
        bounding = {s for section in found for s in boundary(self.graph, self.sec, section)}
        reclose = [s for s in tripped if s not in bounding]
        planned = closed.copy()
        planned[iso] = False
        planned[reclose] = True
        self.isolated |= set(found)

        def check(candidate: np.ndarray) -> bool:
            return self.feasible(candidate, line_in_service)

        ties = restoration_ties(
            self.graph,
            self.sec,
            planned,
            line_in_service,
            blocked=set(iso) | bounding,
            faulted=set(self.isolated),
            feasible=check,
        )
        self._schedule(time_s, iso, False, "isolate")
        self._schedule(time_s, reclose, True, "reclose")
        end = self._schedule(time_s, [], True, "restore")
        for sw, close in ties:
            end = self._schedule(time_s, [sw], close, "restore")
        opened = [sw for sw, close in ties if not close]
        incident.isolation = tuple(sorted({*incident.isolation, *iso, *opened}))
        incident.reclosed = tuple(sorted({*incident.reclosed, *reclose}))
        incident.ties = tuple(sorted({*incident.ties, *(sw for sw, close in ties if close)}))
        incident.restored_s = end

    def _return(self, time_s: int, closed: np.ndarray, line: int) -> None:
        for incident in self.incidents:
            if incident.returned_s is not None or line not in incident.lines:
                continue
            back = [s for s in (*incident.isolation, *incident.breakers) if self.normal_closed[s]]
            self._schedule(time_s, back, True, "return")
            ties = [s for s in incident.ties if not self.normal_closed[s]]
            incident.returned_s = self._schedule(time_s, ties, False, "return")
            self.isolated -= set(incident.sections)

    def due(self, until_s: int) -> list[Operation]:
        """Pop the planned operations due at or before ``until_s``, in order.

        The caller sends them to take effect at ``until_s``; from then on FLISR
        expects to see each switch in its ordered position.
        """
        now = [op for op in self.pending if op.due_s <= until_s]
        self.pending = [op for op in self.pending if op.due_s > until_s]
        for op in now:
            self.expect[op.switch] = (op.close, until_s)
        return now

    def _confirm(self, time_s: int, closed: np.ndarray, fault_passed: np.ndarray) -> None:
        """Order again what did not happen (a command lost), unless protection tripped."""
        for s, (close, at_s) in list(self.expect.items()):
            if time_s < at_s:
                continue
            del self.expect[s]
            if closed[s] == close or self.ours.get(s) != close:
                continue
            if close and fault_passed[s]:
                continue  # protection opened it again: a trip, handled as one
            if any(op.switch == s for op in self.pending):
                continue
            self.reissued += 1
            self._schedule(time_s, [s], close, "retry")
