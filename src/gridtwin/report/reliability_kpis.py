"""Reliability and FLISR KPIs from the true state, step by step (pure; no mosaik).

Customers are loads: one customer per load, or the load table's ``customers``
column where the net has one. A load is interrupted in a step when its bus is
not energized in the true power flow. Durations are counted in whole steps.

``reliability``: ``interruptions`` (steps in which some load newly lost
supply), ``customers_interrupted`` (customer interruptions), ``customers``,
``customer_minutes_lost``, ``ens_mwh`` (demand of interrupted loads times the
step), ``saidi_min`` (minutes lost per customer), ``saifi`` (interruptions
per customer).

``flisr``: ``faults`` (permanent line faults), ``faults_located_correctly``
(incidents whose located section holds a line that has an unrepaired
permanent fault), ``incidents``, ``restored_share`` (of the demand
interrupted, at the moment it was interrupted, the share supplied again
before the next repair), ``restoration_time_s_mean`` (over those restored
loads, from loss of supply to its return), ``operations``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandapower as pp

from gridtwin.grid.engine import PowerFlowResult

__all__ = ["ReliabilityKpis", "customers_per_load"]


def customers_per_load(net: pp.pandapowerNet) -> np.ndarray:
    """The ``customers`` column of ``net.load`` where present, else one per load."""
    if "customers" in net.load:
        return net.load["customers"].fillna(1).to_numpy(dtype=float)
    return np.ones(len(net.load))


@dataclass(slots=True)
class ReliabilityKpis:
    """Accumulates interruptions per load from the true state."""

    step_s: int
    load_bus: np.ndarray
    customers: np.ndarray
    interruptions: int = 0
    customers_interrupted: float = 0.0
    customer_minutes_lost: float = 0.0
    ens_mwh: float = 0.0
    prev_dead: np.ndarray | None = None
    start_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    start_demand_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    episodes: list[tuple[int, int | None, float]] = field(default_factory=list)
    # (start [s], end [s] or None if still interrupted, demand at start [MW])

    @classmethod
    def from_net(cls, net: pp.pandapowerNet, step_s: int) -> ReliabilityKpis:
        pos = {idx: i for i, idx in enumerate(net.bus.index)}
        load_bus = np.array([pos[b] for b in net.load["bus"]], dtype=np.int64)
        return cls(step_s, load_bus, customers_per_load(net))

    def add(self, time_s: int, result: PowerFlowResult, load_demand_p_mw: np.ndarray) -> None:
        """Account one step (a non-converged step counts as unchanged)."""
        n = len(self.load_bus)
        if self.prev_dead is None:
            self.prev_dead = np.zeros(n, dtype=bool)
            self.start_s = np.zeros(n, dtype=np.int64)
            self.start_demand_mw = np.zeros(n)
        if not result.converged:
            dead = self.prev_dead
        else:
            dead = ~result.bus_energized[self.load_bus]
        new = dead & ~self.prev_dead
        back = ~dead & self.prev_dead
        for i in np.flatnonzero(back):
            self.episodes.append((int(self.start_s[i]), time_s, float(self.start_demand_mw[i])))
        if new.any():
            self.interruptions += 1
            self.customers_interrupted += float(self.customers[new].sum())
            self.start_s[new] = time_s
            self.start_demand_mw[new] = load_demand_p_mw[new]
        self.customer_minutes_lost += float(self.customers[dead].sum()) * self.step_s / 60.0
        self.ens_mwh += float(load_demand_p_mw[dead].sum()) * self.step_s / 3600.0
        self.prev_dead = dead.copy()

    def all_episodes(self) -> list[tuple[int, int | None, float]]:
        """Finished episodes and those still open at the end (end None)."""
        out = list(self.episodes)
        if self.prev_dead is not None:
            for i in np.flatnonzero(self.prev_dead):
                out.append((int(self.start_s[i]), None, float(self.start_demand_mw[i])))
        return sorted(out, key=lambda x: (x[0], -1 if x[1] is None else x[1], x[2]))

    def section(self) -> dict[str, float | int]:
        """The ``reliability`` section."""
        total = float(self.customers.sum()) or 1.0
        return {
            "customers": float(self.customers.sum()),
            "interruptions": self.interruptions,
            "customers_interrupted": self.customers_interrupted,
            "customer_minutes_lost": self.customer_minutes_lost,
            "ens_mwh": self.ens_mwh,
            "saidi_min": self.customer_minutes_lost / total,
            "saifi": self.customers_interrupted / total,
        }

    def flisr_section(
        self,
        incidents: list,
        faults: list[tuple[int, int, int | None]],
        repair_times_s: list[int],
        operations: int,
    ) -> dict[str, float | int | None]:
        """The ``flisr`` section.

        Parameters
        ----------
        incidents : list of Incident
            FLISR's incidents.
        faults : list of (line, fault time [s], repair time [s] or None)
            The permanent line faults (truth).
        repair_times_s : list of int
            Times of all repair events.
        operations : int
            Switchings FLISR ordered.
        """
        correct = 0
        for inc in incidents:
            active = {
                line
                for line, at_s, rep_s in faults
                if at_s <= inc.detected_s and (rep_s is None or rep_s > inc.detected_s)
            }
            if active & set(inc.lines):
                correct += 1
        total_mw = restored_mw = 0.0
        durations = []
        for start, end, demand in self.all_episodes():
            nxt = [r for r in repair_times_s if r >= start]
            deadline = min(nxt) if nxt else None
            total_mw += demand
            if end is not None and (deadline is None or end < deadline):
                restored_mw += demand
                durations.append(end - start)
        return {
            "faults": len(faults),
            "incidents": len(incidents),
            "faults_located_correctly": correct,
            "restored_share": restored_mw / total_mw if total_mw > 0 else None,
            "restoration_time_s_mean": float(np.mean(durations)) if durations else None,
            "operations": operations,
        }
