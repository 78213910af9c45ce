"""Reconfiguration of case33bw (Baran & Wu 1989) with all lines switchable.

Published optimum: 202.68 kW -> 139.55 kW with branches 7, 9, 14, 32, 37 open
(1-based branch numbers; pandapower line indices 6, 8, 13, 31, 36).
"""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from gridtwin.controllers.reconfig import (
    Periods,
    Problem,
    Status,
    Weights,
    assess,
    is_radial,
    optimize,
    radial_reasons,
    repair,
)

OPTIMUM_OPEN = [6, 8, 13, 31, 36]
LOSSES = Weights.for_objective("losses")


@pytest.fixture(scope="module")
def problem() -> Problem:
    return Problem.from_net(pn.case33bw(), all_lines_switchable=True)


@pytest.fixture(scope="module")
def solution(problem):
    return optimize(problem, weights=LOSSES)


def test_problem_structure(problem):
    assert problem.m == 37
    assert problem.n_node == 33
    assert problem.n_loops == 5
    assert is_radial(problem, problem.start_closed)
    assert np.flatnonzero(~problem.start_closed).tolist() == [32, 33, 34, 35, 36]


def test_base_losses(problem):
    before = assess(problem, problem.start_closed, weights=LOSSES)
    assert before.losses_mwh * 1e3 == pytest.approx(202.68, abs=0.01)
    assert before.feasible
    assert before.switching_operations == 0


def test_literature_optimum(solution):
    assert solution.assessment.losses_mwh * 1e3 == pytest.approx(139.55, abs=0.05)
    assert solution.open_lines() == OPTIMUM_OPEN
    assert solution.assessment.feasible
    assert solution.status == Status.LOCAL  # the default budget lets the search end by itself
    assert solution.assessment.vm_min_pu == pytest.approx(0.9378, abs=1e-3)


def test_pgm_losses_match_pandapower(problem, solution):
    net = copy.deepcopy(problem.net)
    net.line["in_service"] = solution.line_in_service()
    pp.runpp(net, trafo_model="pi", tolerance_mva=1e-10)
    pp_kw = net.res_line["pl_mw"].sum() * 1e3
    assert solution.assessment.periods[0].losses_mw * 1e3 == pytest.approx(pp_kw, abs=0.01)
    assert solution.assessment.vm_min_pu == pytest.approx(net.res_bus["vm_pu"].min(), abs=1e-6)


def test_meshed_start_is_repaired_first(problem):
    meshed = np.ones(problem.m, dtype=bool)
    assert radial_reasons(problem, meshed)[0].startswith("meshed: 5 loop(s)")
    fixed = repair(problem, meshed)
    assert is_radial(problem, fixed)
    sol = optimize(problem, weights=LOSSES, start=meshed)
    assert sol.open_lines() == OPTIMUM_OPEN
    assert sol.assessment.feasible


def test_islanded_start_is_repaired_first(problem):
    islanded = problem.start_closed.copy()
    islanded[[1, 5]] = False  # cuts off buses 2.. and 6..
    reasons = radial_reasons(problem, islanded)
    assert len(reasons) == 1 and "without supply" in reasons[0]
    fixed = repair(problem, islanded)
    assert is_radial(problem, fixed)
    assert (fixed != islanded).sum() == 2  # two ties closed, nothing else touched
    before = assess(problem, islanded, weights=LOSSES)
    assert not before.feasible
    assert "without supply" in before.reasons[0]


def test_assessment_fields(problem, solution):
    a = assess(problem, solution.plan, weights=Weights(), start=problem.start_closed)
    p = a.periods[0]
    assert p.radial and p.converged and p.violations == []
    assert sorted(p.opened) == [6, 8, 13, 31]
    assert sorted(p.closed) == [32, 33, 34, 35]
    assert p.switching_operations == a.switching_operations == 8
    assert set(a.cost) == {"losses", "violations", "reliability", "switching", "total"}
    assert a.cost["switching"] == pytest.approx(8 * Weights().switching_cost)
    assert a.cost["losses"] == pytest.approx(p.losses_mw * 50.0)
    assert a.cost["total"] == pytest.approx(sum(v for k, v in a.cost.items() if k != "total"))
    assert a.eens_mwh_per_year > 0 and a.interruption_cost_per_year > 0
    data = a.to_dict()
    assert data["periods"][0]["open_lines"] == OPTIMUM_OPEN
    assert data["feasible"] is True


def test_voltage_limit_is_reported():
    tight = Problem.from_net(pn.case33bw(), all_lines_switchable=True, vm_min_pu=0.95)
    a = assess(tight, tight.start_closed, weights=LOSSES)
    assert not a.feasible
    assert any("pu < 0.950 pu" in v for v in a.periods[0].violations)
    assert a.cost["violations"] > 0


def test_same_seed_same_result(problem):
    a = optimize(problem, weights=LOSSES, seed=3)
    b = optimize(problem, weights=LOSSES, seed=3)
    assert np.array_equal(a.plan, b.plan)
    assert a.objective == b.objective


def test_best_so_far_is_reported(problem):
    seen = []
    sol = optimize(
        problem,
        Periods.from_net(problem.net),
        weights=LOSSES,
        on_improvement=lambda plan, value: seen.append((plan.copy(), value)),
    )
    assert seen and all(b[1] < a[1] for a, b in itertools.pairwise(seen))
    assert np.array_equal(seen[-1][0], sol.plan)
