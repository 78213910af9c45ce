"""KPIs of the reconfiguration controller, accumulated step by step (pure; no mosaik).

The testbed judges the controller against the same run's grid held in its
starting configuration (the grid simulator's static twin, one more power flow
per step on the true loads):

- ``losses_mwh`` / ``losses_mwh_static``: energy losses with the controller
  and in the starting configuration, over the steps where both power flows
  converged [MWh];
- ``loss_reduction_mwh`` and ``loss_reduction_share`` (of the static losses) [MWh], [-];
- ``expected_ens_mwh_per_year_before`` / ``_after``: expected energy not
  supplied (RELRAD on the controller's reliability data) of the starting
  configuration and of the configuration the grid was actually in, at each
  step's true demand, averaged over the steps where the actual configuration
  was radial [MWh/a];
- ``switch_operations``: switches (and, on all-lines-switchable nets, lines)
  that a controller command changed;
- ``plans`` (plannings run), ``plans_suspended`` (plans dropped because
  someone else changed the topology), ``plans_without_result`` (blocked or
  infeasible), ``plans_time_limited`` (plans whose search the wall-clock
  cap ``time_limit_s`` cut short, so they depend on the machine's load; 0
  without a cap), ``commands`` (steps in which a command changed something).

EENS is linear in the loads, so each step costs one dot product with the
configuration's unavailabilities (cached per configuration).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gridtwin.controllers.reconfig.controller import CLOCK_NOTE, PlanRecord
from gridtwin.controllers.reconfig.graph import is_radial
from gridtwin.controllers.reconfig.problem import Problem
from gridtwin.controllers.reconfig.reliability import bus_reliability

__all__ = ["ReconfigKpis"]


@dataclass(slots=True)
class ReconfigKpis:
    """Accumulates the ``reconfig`` section of ``kpis.json``.

    Parameters
    ----------
    problem : Problem
        The net in its starting configuration (switchability as the controller's).
    step_s : int
        Simulation step [s].
    """

    problem: Problem
    step_s: int
    losses_mwh: float = 0.0
    losses_mwh_static: float = 0.0
    steps_compared: int = 0
    steps_not_compared: int = 0
    switch_operations: int = 0
    commands: int = 0
    plans: int = 0
    plans_suspended: int = 0
    plans_without_result: int = 0
    plans_time_limited: int = 0
    eens_before_sum: float = 0.0
    eens_after_sum: float = 0.0
    eens_steps: int = 0
    _u_load: dict[bytes, np.ndarray | None] = field(default_factory=dict, repr=False)

    def _unavailability(self, closed: np.ndarray) -> np.ndarray | None:
        """Unavailability of each load [h/a] in configuration ``closed`` (None: not radial)."""
        key = np.packbits(closed).tobytes()
        if key not in self._u_load:
            p = self.problem
            if is_radial(p, closed):
                indices = bus_reliability(p, closed)
                self._u_load[key] = indices.unavailability_h_per_year[p.load_bus]
            else:
                self._u_load[key] = None
        return self._u_load[key]

    def add(
        self,
        *,
        converged: bool,
        losses_mw: float,
        static_losses_mw: float,
        load_demand_p_mw: np.ndarray,
        switch_closed: np.ndarray,
        line_in_service: np.ndarray,
        command_operations: int,
    ) -> None:
        """Account one step of the grid with the controller and its static twin."""
        hours = self.step_s / 3600.0
        self.switch_operations += int(command_operations)
        self.commands += int(command_operations > 0)
        if converged and np.isfinite(static_losses_mw):
            self.steps_compared += 1
            self.losses_mwh += losses_mw * hours
            self.losses_mwh_static += static_losses_mw * hours
        else:
            self.steps_not_compared += 1
        p = self.problem
        if p.all_lines_switchable:
            closed = np.asarray(line_in_service, dtype=bool)[p.line_pos]
        else:
            closed = p.closed_from_switches(switch_closed) & line_in_service[p.line_pos]
        u_after = self._unavailability(closed)
        if u_after is None:
            return
        u_before = self._unavailability(p.start_closed)
        assert u_before is not None
        demand = np.asarray(load_demand_p_mw, dtype=float)
        self.eens_after_sum += float(demand @ u_after)
        self.eens_before_sum += float(demand @ u_before)
        self.eens_steps += 1

    def add_plans(self, records: list[PlanRecord]) -> None:
        """Account the controller's plan records of one step."""
        for r in records:
            if r.status == "suspended":
                self.plans_suspended += 1
            elif r.status in ("blocked", "infeasible"):
                self.plans_without_result += 1
            else:
                self.plans += 1
                if r.status == "time_limit" or CLOCK_NOTE in r.reason:
                    self.plans_time_limited += 1

    def section(self) -> dict[str, float | int | None]:
        """The ``reconfig`` section."""
        reduction = self.losses_mwh_static - self.losses_mwh
        n = self.eens_steps
        return {
            "plans": self.plans,
            "plans_suspended": self.plans_suspended,
            "plans_without_result": self.plans_without_result,
            "plans_time_limited": self.plans_time_limited,
            "commands": self.commands,
            "switch_operations": self.switch_operations,
            "losses_mwh": self.losses_mwh,
            "losses_mwh_static": self.losses_mwh_static,
            "loss_reduction_mwh": reduction,
            "loss_reduction_share": (
                reduction / self.losses_mwh_static if self.losses_mwh_static > 0 else None
            ),
            "steps_compared": self.steps_compared,
            "steps_not_compared": self.steps_not_compared,
            "expected_ens_mwh_per_year_before": self.eens_before_sum / n if n else None,
            "expected_ens_mwh_per_year_after": self.eens_after_sum / n if n else None,
        }
