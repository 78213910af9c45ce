"""Multi-period plans: switching cost against losses, per-period optima, switch tables."""

from __future__ import annotations

import copy

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from gridtwin.controllers.reconfig import Periods, Problem, Status, Weights, optimize


@pytest.fixture(scope="module")
def case33():
    problem = Problem.from_net(pn.case33bw(), all_lines_switchable=True)
    base = Periods.from_net(problem.net, n=3)
    bus = problem.net.load["bus"].to_numpy()
    f = np.ones((3, len(bus)))
    f[1, bus >= 18] = 3.0  # the far feeders heavy
    f[2, (bus >= 2) & (bus < 18)] = 0.2
    f[2, bus >= 25] = 3.0
    periods = Periods(
        base.load_p_mw * f, base.load_q_mvar * f, base.sgen_p_mw, base.sgen_q_mvar, base.duration_h
    )
    return problem, periods


def test_zero_switching_cost_gives_per_period_optima(case33):
    problem, periods = case33
    weights = Weights.for_objective("losses")
    plan = optimize(problem, periods, weights=weights)
    single = [optimize(problem, periods.select([t]), weights=weights) for t in range(3)]
    for t in range(3):
        assert plan.assessment.periods[t].losses_mw == pytest.approx(
            single[t].assessment.periods[0].losses_mw, rel=1e-9
        )
    # the optima differ between periods, so the plan switches
    assert len({tuple(plan.open_lines(t)) for t in range(3)}) == 3
    assert plan.open_lines(0) == [6, 8, 13, 31, 36]


def test_high_switching_cost_keeps_one_configuration(case33):
    problem, periods = case33
    weights = Weights.for_objective("losses", switching_cost=1e9)
    plan = optimize(problem, periods, weights=weights)
    assert (plan.plan == plan.plan[0]).all()
    assert np.array_equal(plan.plan[0], problem.start_closed)
    assert plan.assessment.switching_operations == 0


def test_high_switching_cost_from_a_meshed_start_still_one_configuration(case33):
    problem, periods = case33
    weights = Weights.for_objective("losses", switching_cost=1e9)
    meshed = np.ones(problem.m, dtype=bool)
    plan = optimize(problem, periods, weights=weights, start=meshed)
    assert (plan.plan == plan.plan[0]).all()
    assert all(p.radial for p in plan.assessment.periods)  # heavy periods violate voltages
    assert plan.assessment.switching_operations == 5  # the fewest to go radial


def test_switch_table_grid_exact_and_mapped_back():
    """simple_mv_open_ring_net: a ring of 6 lines with line switches, one open."""
    net = pn.simple_mv_open_ring_net()
    problem = Problem.from_net(net)
    assert problem.m == 6 and problem.n_loops == 1
    sol = optimize(problem, weights=Weights.for_objective("losses"))
    assert sol.status == Status.OPTIMAL
    switch_closed = sol.switch_closed()
    assert switch_closed.shape == (len(net.switch),)
    assert np.array_equal(problem.closed_from_switches(switch_closed), sol.plan[0])
    # the pandapower reference with those switch positions gives the same losses
    ref = copy.deepcopy(problem.net)
    ref.switch["closed"] = switch_closed
    pp.runpp(ref, trafo_model="pi", tolerance_mva=1e-10)
    pp_mw = ref.res_line["pl_mw"].sum() + ref.res_trafo["pl_mw"].sum()
    assert sol.assessment.periods[0].losses_mw == pytest.approx(pp_mw, abs=1e-5)
    # every other radial configuration is worse
    for open_line in range(6):
        closed = np.ones(6, dtype=bool)
        closed[open_line] = False
        ref.switch["closed"] = problem.switch_closed(closed)
        pp.runpp(ref, trafo_model="pi")
        other = ref.res_line["pl_mw"].sum() + ref.res_trafo["pl_mw"].sum()
        assert other >= pp_mw - 1e-9


def test_exact_multi_period_zero_switching_equals_per_period():
    net = pn.simple_mv_open_ring_net()
    problem = Problem.from_net(net)
    base = Periods.from_net(problem.net, n=2)
    f = np.ones_like(base.load_p_mw)
    f[1, : f.shape[1] // 2] = 4.0
    periods = Periods(
        base.load_p_mw * f, base.load_q_mvar * f, base.sgen_p_mw, base.sgen_q_mvar, base.duration_h
    )
    weights = Weights.for_objective("losses", violation_cost_per_percent_h=0.0)
    plan = optimize(problem, periods, weights=weights)
    for t in range(2):
        single = optimize(problem, periods.select([t]), weights=weights)
        assert np.array_equal(plan.plan[t], single.plan[0])
