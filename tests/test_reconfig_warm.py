"""Warm-started reconfiguration: a search memory kept from plan to plan.

A :class:`SearchMemory` hands a search the power-flow outcomes and reliability
indices of earlier searches on the same problem, and the results of periods it
searched already. The warm plan is never worse than holding the configuration
in place, a fresh memory changes nothing, and the budget (an evaluation count)
keeps the controller in the loop deterministic whatever the machine's load.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandapower.networks as pn
import pytest

from gridtwin.controllers.reconfig import Periods, Problem, SearchMemory, Weights, assess, optimize
from gridtwin.controllers.reconfig.controller import Controller, Observation, PlanRecord
from tests.test_reconfig_budget import machine_under_load

STEP_S = 900
DAY_PROFILE = 0.55 + 0.45 * np.sin(np.linspace(0.0, 2.0 * np.pi, 96, endpoint=False)) ** 2


@pytest.fixture(scope="module")
def mv_rural() -> Problem:
    import simbench

    return Problem.from_net(simbench.get_simbench_net("1-MV-rural--0-sw"))


def _hourly(problem: Problem, hours: range) -> Periods:
    """Periods at the net's powers scaled by a daily load curve and a PV bell."""
    base = Periods.from_net(problem.net)
    load = np.array([DAY_PROFILE[(4 * h) % 96] for h in hours])[:, None]
    pv = np.array([max(0.0, np.sin(np.pi * ((h % 24) - 6) / 12)) for h in hours])[:, None]
    return Periods(
        base.load_p_mw * load,
        base.load_q_mvar * load,
        base.sgen_p_mw * 2.0 * pv,
        base.sgen_q_mvar * 2.0 * pv,
        np.ones(len(hours)),
    )


def _held_cost(problem: Problem, start: np.ndarray, periods: Periods, weights: Weights) -> float:
    return float(assess(problem, start, periods, weights=weights, start=start).cost["total"])


def test_a_fresh_memory_changes_nothing(mv_rural):
    periods = _hourly(mv_rural, range(8))
    w = Weights()
    cold = optimize(mv_rural, periods, weights=w, max_evaluations=600)
    memory = SearchMemory(mv_rural)
    warm = optimize(mv_rural, periods, weights=w, max_evaluations=600, memory=memory)
    np.testing.assert_array_equal(warm.plan, cold.plan)
    assert warm.objective == cold.objective
    assert warm.evaluations == cold.evaluations
    assert warm.power_flows <= cold.power_flows
    assert len(memory) > 0


def test_rolling_horizon_warm_never_worse_than_in_place(mv_rural):
    w = Weights()
    memory = SearchMemory(mv_rural)
    start = mv_rural.start_closed
    first = optimize(mv_rural, _hourly(mv_rural, range(12)), weights=w, memory=memory,
                     max_evaluations=800)  # fmt: skip
    # six hours later: the next 12 h overlap the last plan's by 6 h, same forecast there
    later = _hourly(mv_rural, range(6, 18))
    for now in (start, first.plan[5]):  # held, or switched as planned
        warm = optimize(mv_rural, later, weights=w, start=now, memory=memory, max_evaluations=800)
        cold = optimize(mv_rural, later, weights=w, start=now, max_evaluations=800)
        held = _held_cost(mv_rural, now, later, w)
        assert warm.objective <= held + 1e-9 * held
        assert cold.objective <= held + 1e-9 * held
        # the overlap costs no second power flow and no second search
        assert warm.power_flows < cold.power_flows
        assert memory.hits > 0


def test_memory_belongs_to_one_problem(mv_rural):
    other = Problem.from_net(pn.case33bw(), all_lines_switchable=True)
    with pytest.raises(ValueError, match="another Problem"):
        optimize(other, memory=SearchMemory(mv_rural))


def _observations(problem: Problem, n_steps: int) -> list[Observation]:
    """Metered loads and generation of a day curve, the switches as the net has them."""
    base = Periods.from_net(problem.net)
    out = []
    for k in range(n_steps):
        f = DAY_PROFILE[k % 96]
        pv = max(0.0, np.sin(np.pi * ((k % 96) / 4 - 6) / 12))
        out.append(
            Observation(
                time_s=k * STEP_S,
                switch_closed=problem.net.switch["closed"].to_numpy(dtype=bool),
                line_in_service=problem.net.line["in_service"].to_numpy(dtype=bool),
                load_p_mw=base.load_p_mw[0] * f,
                load_q_mvar=base.load_q_mvar[0] * f,
                sgen_p_mw=base.sgen_p_mw[0] * 2.0 * pv,
                sgen_q_mvar=base.sgen_q_mvar[0] * 2.0 * pv,
            )
        )
    return out


def _loop(problem: Problem, warm: bool, n_steps: int) -> tuple[list[PlanRecord], list[float]]:
    """The controller in a loop whose grid carries out its switch commands one step later.

    Returns the plan records and, per plan, the forecast cost of holding the
    configuration in place over the plan's horizon [EUR].
    """
    ctl = Controller(
        problem=problem,
        weights=Weights(),
        step_s=STEP_S,
        every_s=6 * 3600,
        horizon_s=12 * 3600,
        max_evaluations=800,
        warm_start=warm,
    )
    sw = problem.net.switch["closed"].to_numpy(dtype=bool).copy()
    records: list[PlanRecord] = []
    held: list[float] = []
    for obs in _observations(problem, n_steps):
        obs = dataclasses.replace(obs, switch_closed=sw.copy())
        k = obs.time_s // STEP_S
        if obs.time_s % (6 * 3600) == 0:
            start = problem.closed_from_switches(sw)
            ctl._remember(k, obs)  # the forecast the plan will see (remembering twice is harmless)
            held.append(_held_cost(problem, start, ctl.forecast_periods(k), ctl.weights))
        command, recs = ctl.step(obs)
        records += recs
        if command is not None:
            sw[command.switch_pos] = command.switch_closed
    return records, held


def _without_clock(records: list[PlanRecord]) -> list[PlanRecord]:
    return [dataclasses.replace(r, compute_ms=0.0) for r in records]


@pytest.fixture(scope="module")
def loops(mv_rural):
    n = 96 + 48  # a day and a half: six plans, four of them with a previous day to forecast from
    warm, held = _loop(mv_rural, True, n)
    with machine_under_load():
        warm_loaded, _ = _loop(mv_rural, True, n)
    cold, held_cold = _loop(mv_rural, False, n)
    return warm, warm_loaded, held, cold, held_cold


def test_controller_warm_plans_never_worse_than_in_place(loops):
    warm, _, held, cold, held_cold = loops
    for records, held_costs in ((warm, held), (cold, held_cold)):
        plans = [r for r in records if r.trigger == "schedule"]
        assert len(plans) == len(held_costs) == 6
        for r, h in zip(plans, held_costs, strict=True):
            assert r.objective <= h + 1e-9 * h, r


def test_controller_warm_start_computes_fewer_power_flows(loops):
    warm, _, _, cold, _ = loops
    assert sum(r.power_flows for r in warm) < sum(r.power_flows for r in cold)


def test_controller_same_plans_beside_a_busy_thread(loops):
    warm, warm_loaded, *_ = loops
    assert _without_clock(warm) == _without_clock(warm_loaded)
