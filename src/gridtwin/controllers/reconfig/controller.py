"""The reconfiguration controller in the loop: plan on a schedule, command the switches (pure).

A :class:`Controller` is what a DMS's reconfiguration function does between two
SCADA scans. Each step it receives an :class:`Observation`, what the control
centre has:

- the switch and line status indications (``net.switch.closed``,
  ``net.line.in_service``) as SCADA reports them;
- the metered active and reactive power of every load and generator at the
  end of the step. There is no forecaster yet, so the controller treats these
  as metered values the DSO has (smart meters and SCADA feeders, read every
  step) and forecasts from them itself: each planning period gets the mean of
  the same hours of the previous day the controller has seen
  (``forecast="previous_day"``, a persistence forecast one day back), or the
  last metered values where it has not seen that hour yet (always for
  ``forecast="hold"``).

On its schedule (every ``every_s``) or on demand, it plans the next
``horizon`` in periods of ``period_s`` with
:func:`~gridtwin.controllers.reconfig.optimize`, starting from the
configuration it observes, warm-started from its previous plans on the same
topology (a :class:`~gridtwin.controllers.reconfig.memory.SearchMemory`:
the overlap of a rolling horizon is neither searched nor power-flowed
again). It then carries the plan out: at each step it
orders the switches of the lines whose state differs from the plan's
configuration for the next step (all switches of a line to open, the open ones
of a line to close), and nothing else (a
:class:`~gridtwin.grid.state.SwitchCommand` names only the devices to
operate). The grid applies a command one step later.

It never fights other actors. Each step it compares the observed topology with
what it expects (the last observation plus its own command); a difference is
someone else's doing (a protection trip, an outage, an operator), and it drops
the rest of its plan until the next planning. Lines someone else opened are
*locked*: a new plan leaves them open (on nets with switch tables they are
planned as out of service; on all-lines-switchable nets, which cannot tell an
open line from a failed one, it does not plan while any line is locked).

The controller never imports mosaik; :mod:`.reconfig_sim` adapts it.
"""

from __future__ import annotations

import copy
import time as wallclock
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridtwin.controllers.reconfig.assess import assess
from gridtwin.controllers.reconfig.memory import SearchMemory
from gridtwin.controllers.reconfig.objective import Weights
from gridtwin.controllers.reconfig.problem import Periods, Problem
from gridtwin.controllers.reconfig.search import Status, optimize
from gridtwin.errors import InputError
from gridtwin.grid.state import SwitchCommand

__all__ = ["CLOCK_NOTE", "Controller", "Observation", "PlanRecord"]

DAY_S = 86400

CLOCK_NOTE = "the wall-clock cap time_limit_s cut the search short"
"""Added to a held plan's reason when the clock ended its search (status ``held``)."""


@dataclass(frozen=True, slots=True)
class Observation:
    """What the control centre knows at the end of a step.

    Attributes
    ----------
    time_s : int
        Simulation time of the step [s].
    switch_closed : ndarray of bool, shape (n_switch,)
        Switch status indications.
    line_in_service : ndarray of bool, shape (n_line,)
        Line status indications.
    load_p_mw, load_q_mvar : ndarray, shape (n_load,)
        Metered load [MW], [MVAr] (consumption positive).
    sgen_p_mw, sgen_q_mvar : ndarray, shape (n_sgen,)
        Metered generation [MW], [MVAr] (generation positive).
    """

    time_s: int
    switch_closed: np.ndarray
    line_in_service: np.ndarray
    load_p_mw: np.ndarray
    load_q_mvar: np.ndarray
    sgen_p_mw: np.ndarray
    sgen_q_mvar: np.ndarray


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """One planning (or a suspended plan), as the run store keeps it.

    Attributes
    ----------
    time_s : int
        When the controller planned [s].
    trigger : str
        ``schedule``, ``on_demand`` or ``topology_change`` (a suspension).
    status : str
        The search's status (``optimal``; ``local``: it ended by itself;
        ``budget``: ``max_evaluations`` ended it; ``time_limit``: the
        wall-clock cap ended it, so the plan depends on the machine), or
        ``blocked`` / ``infeasible`` / ``suspended`` with ``reason``, or
        ``held`` (a plan that did not beat holding the configuration by the
        margin; ``reason`` gives the figures).
    objective : float
        The plan's cost over the horizon [EUR] (NaN without a plan).
    losses_mwh_before, losses_mwh_after : float
        Forecast losses over the horizon holding the current configuration,
        and with the plan [MWh].
    eens_mwh_per_year_before, eens_mwh_per_year_after : float
        Expected energy not supplied, likewise [MWh/a].
    operations : int
        Line state changes in the plan.
    open_lines : str
        Names of the switchable lines open in the plan's first period.
    power_flows : int
        Power flows the search ran (one per configuration and period).
    compute_ms : float
        Wall time of the planning [ms].
    reason : str
        Why there is no plan (empty otherwise).
    """

    time_s: int
    trigger: str
    status: str
    objective: float = float("nan")
    losses_mwh_before: float = float("nan")
    losses_mwh_after: float = float("nan")
    eens_mwh_per_year_before: float = float("nan")
    eens_mwh_per_year_after: float = float("nan")
    operations: int = 0
    open_lines: str = ""
    power_flows: int = 0
    compute_ms: float = 0.0
    reason: str = ""


@dataclass(slots=True)
class _Plan:
    problem: Problem
    start_step: int  # index of the step the first period begins with
    steps_per_period: int
    rows: np.ndarray  # (n_periods, m) closed switchable lines

    def row_for(self, step: int) -> np.ndarray | None:
        j = (step - self.start_step) // self.steps_per_period
        return self.rows[j] if 0 <= j < len(self.rows) else None


@dataclass(slots=True)
class Controller:
    """A reconfiguration function in the loop; see the module docstring.

    Parameters
    ----------
    problem : Problem
        The net in its starting configuration, as the controller's model of
        the grid (built with the scenario's limits and switchability).
    weights : Weights
        Prices of the objective.
    step_s : int
        Simulation step [s].
    every_s : int or None
        Planning interval [s] (a multiple of ``step_s``); None: on demand only.
    horizon_s, period_s : int
        Planning horizon and period length [s] (multiples of ``step_s``).
    forecast : {"previous_day", "hold"}
    max_evaluations : int
        Search budget per plan (configuration-period evaluations).
    time_limit_s : float or None
        Wall-clock safety cap per plan [s]; None or ``inf`` (the default):
        none, so runs are reproducible. A plan it cuts short has status
        ``time_limit``.
    seed : int
        Seed of the search.
    robust : bool
        Carry out a plan only if it beats holding the current configuration
        on two forecasts by its switching cost (see :meth:`_robust_gain`);
        otherwise hold.
    warm_start : bool
        Keep a :class:`~.memory.SearchMemory` from plan to plan while the
        topology stays (the overlapping part of the horizon then costs no
        power flows again). The plans are the same either way.
    """

    problem: Problem
    weights: Weights
    step_s: int
    every_s: int | None = 21600
    horizon_s: int = 86400
    period_s: int = 3600
    forecast: str = "previous_day"
    max_evaluations: int = 3000
    time_limit_s: float | None = None
    seed: int = 0
    robust: bool = True
    warm_start: bool = True
    _memory: SearchMemory | None = field(default=None, repr=False)
    _hist: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _first_step: int = -1
    _plan: _Plan | None = None
    _expected: tuple[np.ndarray, np.ndarray] | None = None
    _own_switch: np.ndarray | None = None  # switch positions as the controller left them
    _own_line: np.ndarray | None = None
    _fixed_switch: np.ndarray | None = None  # switches that are not line switches
    _problems: dict[bytes, Problem | InputError] = field(default_factory=dict, repr=False)
    n_plans: int = 0
    n_commands: int = 0

    def __post_init__(self) -> None:
        net = self.problem.net
        self._own_switch = net.switch["closed"].to_numpy(dtype=bool).copy()
        self._own_line = net.line["in_service"].to_numpy(dtype=bool).copy()
        self._fixed_switch = net.switch["et"].to_numpy() != "l"

    @property
    def history_steps(self) -> int:
        """Steps of metered values kept: one day."""
        return max(1, DAY_S // self.step_s)

    # --- one step ---------------------------------------------------------------------------

    def step(
        self, obs: Observation, *, on_demand: bool = False
    ) -> tuple[SwitchCommand | None, list[PlanRecord]]:
        """Take in a step's observation; return the command for the next step and plan records.

        Parameters
        ----------
        obs : Observation
            The status and meter readings at the end of step ``obs.time_s``.
        on_demand : bool
            Plan now, whatever the schedule.
        """
        k = obs.time_s // self.step_s
        self._remember(k, obs)
        records: list[PlanRecord] = []
        sw, ln = obs.switch_closed, obs.line_in_service
        if self._expected is not None and not (
            np.array_equal(self._expected[0], sw) and np.array_equal(self._expected[1], ln)
        ):
            if self._plan is not None:
                records.append(
                    PlanRecord(
                        obs.time_s,
                        "topology_change",
                        "suspended",
                        reason="the topology changed without a command of this controller; "
                        "plan dropped until the next planning",
                    )
                )
            self._plan = None
        scheduled = self.every_s is not None and obs.time_s % self.every_s == 0
        if scheduled or on_demand:
            records.append(self._replan(k, obs, "on_demand" if on_demand else "schedule"))
        command = self._command(k, obs)
        sw_next, ln_next = sw.copy(), ln.copy()
        if command is not None:
            sw_next[command.switch_pos] = command.switch_closed
            ln_next[command.line_pos] = command.line_in_service
            assert self._own_switch is not None and self._own_line is not None
            self._own_switch[command.switch_pos] = command.switch_closed
            self._own_line[command.line_pos] = command.line_in_service
            self.n_commands += 1
        self._expected = (sw_next, ln_next)
        return command, records

    # --- metered history and the forecast ---------------------------------------------------

    def _remember(self, k: int, obs: Observation) -> None:
        n = self.history_steps
        if not self._hist:
            self._first_step = k
            for name in ("load_p_mw", "load_q_mvar", "sgen_p_mw", "sgen_q_mvar"):
                self._hist[name] = np.zeros((n, len(getattr(obs, name))))
            self._hist["last"] = np.array([k])
        for name in ("load_p_mw", "load_q_mvar", "sgen_p_mw", "sgen_q_mvar"):
            self._hist[name][k % n] = np.nan_to_num(getattr(obs, name))
        self._hist["last"][0] = k

    def forecast_periods(self, k: int, mode: str | None = None) -> Periods:
        """Loads and generation of the planning periods that start with step ``k + 1``.

        Each step ``s`` of the horizon takes the value metered at ``s - 1 day``
        if the controller has seen that step (``forecast="previous_day"``), else
        the last metered value; a period is the mean of its steps.
        """
        n_hist = self.history_steps
        per = self.period_s // self.step_s
        n_per = self.horizon_s // self.period_s
        steps = k + 1 + np.arange(n_per * per)
        src = steps - n_hist
        seen = (src >= self._first_step) & (src <= k)
        if (mode or self.forecast) == "hold":
            seen[:] = False
        mean = {}
        for name in ("load_p_mw", "load_q_mvar", "sgen_p_mw", "sgen_q_mvar"):
            hist = self._hist[name]
            values = np.where(seen[:, None], hist[src % n_hist], hist[k % n_hist][None, :])
            mean[name] = values.reshape(n_per, per, -1).mean(axis=1)
        return Periods(**mean, duration_h=np.full(n_per, self.period_s / 3600.0))

    # --- planning ---------------------------------------------------------------------------

    def _locked_open(self, obs: Observation) -> np.ndarray:
        """Lines (positions in net.line) someone else opened or took out of service."""
        assert self._own_line is not None and self._own_switch is not None
        p = self.problem
        if p.all_lines_switchable:
            return np.flatnonzero(self._own_line & ~obs.line_in_service)
        own = p.line_in_service(p.closed_from_switches(self._own_switch)) & self._own_line
        now = p.line_in_service(p.closed_from_switches(obs.switch_closed)) & obs.line_in_service
        return np.flatnonzero(own & ~now)

    def _problem_for(self, obs: Observation, locked: np.ndarray) -> Problem | InputError:
        """The controller's model of the grid as it is now (cached by topology)."""
        base = self.problem
        key = b"".join(
            (obs.switch_closed.tobytes(), obs.line_in_service.tobytes(), locked.tobytes())
        )
        if key in self._problems:
            return self._problems[key]
        fixed = self._fixed_switch
        same_fixed = base.all_lines_switchable or (
            not len(locked)
            and np.array_equal(
                obs.line_in_service, base.net.line["in_service"].to_numpy(dtype=bool)
            )
            and np.array_equal(
                obs.switch_closed[fixed], base.net.switch["closed"].to_numpy(dtype=bool)[fixed]
            )
        )
        if same_fixed:
            out: Problem | InputError = base
        else:
            net = copy.deepcopy(base.net)
            net.switch["closed"] = obs.switch_closed
            net.line["in_service"] = obs.line_in_service
            net.line.loc[net.line.index[locked], "in_service"] = False
            try:
                out = Problem.from_net(
                    net,
                    all_lines_switchable=False,
                    vm_min_pu=None,
                    vm_max_pu=None,
                    max_loading_percent=None,
                    source="observed topology",
                )
            except InputError as exc:
                out = exc
            else:  # keep the limits and reliability data of the controller's model
                out.vm_min_pu = base.vm_min_pu
                out.vm_max_pu = base.vm_max_pu
                out.line_max_loading_percent = base.line_max_loading_percent
                out.trafo_max_loading_percent = base.trafo_max_loading_percent
                out.reliability = base.reliability
        self._problems[key] = out
        return out

    def _replan(self, k: int, obs: Observation, trigger: str) -> PlanRecord:
        t0 = wallclock.perf_counter()
        self._plan = None
        locked = self._locked_open(obs)
        if self.problem.all_lines_switchable and len(locked):
            names = ", ".join(self.problem.line_names[i] for i in locked)
            return PlanRecord(
                obs.time_s,
                trigger,
                "blocked",
                reason=f"lines {names} were opened by others; an all-lines-switchable net "
                "cannot tell them from open lines, so no plan until they are back",
            )
        problem = self._problem_for(obs, locked)
        if isinstance(problem, InputError):
            return PlanRecord(obs.time_s, trigger, "infeasible", reason=problem.message)
        if problem.all_lines_switchable:
            start = obs.line_in_service[problem.line_pos]
        else:
            start = problem.closed_from_switches(obs.switch_closed)
        periods = self.forecast_periods(k)
        self.n_plans += 1
        sol = optimize(
            problem,
            periods,
            weights=self.weights,
            start=start,
            time_limit_s=self.time_limit_s,
            seed=self.seed,
            max_evaluations=self.max_evaluations,
            memory=self._memory_for(problem),
        )
        before = assess(problem, start, periods, weights=self.weights, start=start)
        after = sol.assessment
        plan, reason = sol.plan, ""
        if self.robust and after.switching_operations:
            gain, margin = self._robust_gain(problem, start, sol.plan, k, before, after)
            if not gain > margin:
                plan = np.repeat(start[None, :], len(sol.plan), axis=0)
                after = before
                reason = (
                    f"held: the plan gains {gain:.1f} EUR on the worse of two forecasts, "
                    f"not more than the {margin:.1f} EUR of switching there and back"
                )
                if sol.status is Status.TIME_LIMIT:
                    reason += f"; {CLOCK_NOTE}"
        self._plan = _Plan(problem, k + 1, self.period_s // self.step_s, plan)
        line_names = problem.line_names
        first_open = np.flatnonzero(~plan[0])
        return PlanRecord(
            time_s=obs.time_s,
            trigger=trigger,
            status="held" if reason else str(sol.status),
            objective=float(after.cost["total"]) if reason else float(sol.objective),
            losses_mwh_before=before.losses_mwh,
            losses_mwh_after=after.losses_mwh,
            eens_mwh_per_year_before=before.eens_mwh_per_year,
            eens_mwh_per_year_after=after.eens_mwh_per_year,
            operations=after.switching_operations,
            open_lines=", ".join(line_names[problem.line_pos[i]] for i in first_open),
            power_flows=int(sol.power_flows),
            compute_ms=(wallclock.perf_counter() - t0) * 1e3,
            reason=reason,
        )

    def _memory_for(self, problem: Problem) -> SearchMemory | None:
        """The search memory of ``problem`` (a new one after a topology change)."""
        if not self.warm_start:
            return None
        if self._memory is None or self._memory.problem is not problem:
            self._memory = SearchMemory(problem)
        return self._memory

    def _robust_gain(
        self,
        problem: Problem,
        start: np.ndarray,
        plan: np.ndarray,
        k: int,
        before: Any,
        after: Any,
    ) -> tuple[float, float]:
        """The plan's gain over holding ``start`` on the worse of two forecasts, and the margin.

        The plan was found on the ``forecast`` (by default the same hours of
        the previous day). Forecast error can turn a small predicted gain into
        a loss, so the plan and the held configuration are also compared on a
        second forecast, the last metered values held over the horizon; the
        gain counted is the smaller of the two [EUR]. The margin is the
        plan's switching cost once more [EUR]: a plan carried out only until
        the next planning may be switched back then, so a move must pay for
        the way back too.
        """
        gain_main = float(before.cost["total"] - after.cost["total"])
        alt = self.forecast_periods(k, mode="hold" if self.forecast != "hold" else "previous_day")
        hold_alt = assess(problem, start, alt, weights=self.weights, start=start)
        plan_alt = assess(problem, plan, alt, weights=self.weights, start=start)
        gain_alt = float(hold_alt.cost["total"] - plan_alt.cost["total"])
        margin = float(after.cost.get("switching", 0.0))
        return min(gain_main, gain_alt), margin

    # --- commands ---------------------------------------------------------------------------

    def _command(self, k: int, obs: Observation) -> SwitchCommand | None:
        """Order the devices whose position differs from the plan at step ``k + 1``."""
        plan = self._plan
        if plan is None:
            return None
        row = plan.row_for(k + 1)
        if row is None:
            self._plan = None
            return None
        p = plan.problem
        empty = np.zeros(0, dtype=np.int64)
        if p.all_lines_switchable:
            want = obs.line_in_service.copy()
            want[p.line_pos] = row
            pos = np.flatnonzero(want != obs.line_in_service)
            if not len(pos):
                return None
            return SwitchCommand(
                (k + 1) * self.step_s, empty, np.zeros(0, dtype=bool), pos, want[pos]
            )
        sw = obs.switch_closed
        want = p.switch_closed(row, base=sw)
        # only the switches of lines that change state: an open line with one switch
        # open and one closed stays as it is
        as_is = p.switch_closed(p.closed_from_switches(sw), base=sw)
        pos = np.flatnonzero((want != sw) & (want != as_is))
        if not len(pos):
            return None
        return SwitchCommand((k + 1) * self.step_s, pos, want[pos], empty, np.zeros(0, dtype=bool))
