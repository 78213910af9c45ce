"""RELRAD expected energy not supplied against a hand calculation."""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pytest

from gridtwin.controllers.reconfig import Problem, Weights, assess, bus_reliability, optimize


def three_feeders(breaker_on_l4: bool = True) -> pp.pandapowerNet:
    """Three feeders from one busbar, a tie between the ends of feeders B and C::

        source 0 ──L1── 1 ──L2── 2                  feeder A
               ├──L3── 3 ──[B]L4── 4                feeder B (L4 has its own breaker)
               └──L5── 5                            feeder C
                               4 ┄┄T┄┄ 5            tie T, open (line switch)

    Loads [MW]: bus 1 0.2 (residential), 2 0.1 (residential), 3 0.3 (commercial),
    4 0.2 (industrial), 5 0.1 (public). Fault rates [1/a]: L1 0.2, L2 0.1,
    L3 0.3, L4 0.1, L5 0.2, T 0.05. Sectioning 1 h, repair 5 h everywhere.
    """
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 10.0) for _ in range(6)]
    pp.create_ext_grid(net, b[0])
    ends = {"L1": (0, 1), "L2": (1, 2), "L3": (0, 3), "L4": (3, 4), "L5": (0, 5), "T": (4, 5)}
    for name, (f, t) in ends.items():
        pp.create_line_from_parameters(net, b[f], b[t], 1.0, 0.1, 0.1, 10.0, 0.4, name=name)
    pp.create_switch(net, b[4], 5, et="l", closed=False)
    net.line["fault_rate_per_year"] = [0.2, 0.1, 0.3, 0.1, 0.2, 0.05]
    net.line["breaker"] = [False, False, False, breaker_on_l4, False, False]
    categories = ["residential", "residential", "commercial", "industrial", "public"]
    for bus, p_mw in zip(b[1:], [0.2, 0.1, 0.3, 0.2, 0.1], strict=True):
        pp.create_load(net, bus, p_mw, 0.0)
    net.load["customer_category"] = categories
    return net


def test_eens_matches_hand_calculation():
    """Per fault: λ · Σ P · r, r = 1 h (sectioning) or 5 h (repair).

    ====== ======================================== ============= ==========
    fault  interrupted loads, outage time           λ Σ P r       [MWh/a]
    ====== ======================================== ============= ==========
    L1     1, 2 wait for repair (no tie): 5 h       0.2 · 1.5     0.30
    L2     2: 5 h; 1: 1 h (feeder breaker trips)    0.1 · 0.7     0.07
    L3     3, 4: 1 h, re-fed over the tie T         0.3 · 0.5     0.15
    L4     4: 1 h (tie); 3 not hit (own breaker)    0.1 · 0.2     0.02
    L5     5: 1 h, re-fed over the tie T            0.2 · 0.1     0.02
    ====== ======================================== ============= ==========
    EENS = 0.56 MWh/a. Per bus U [h/a]: 1: 0.2·5 + 0.1·1 = 1.1; 2: 1.5;
    3: 0.3; 4: 0.3 + 0.1 = 0.4; 5: 0.2. Cost: 1000 · (0.2·1.1·1 + 0.1·1.5·1
    + 0.3·0.3·12 + 0.2·0.4·8 + 0.1·0.2·2.5) = 2140 EUR/a with the default
    EUR/kWh of residential 1, commercial 12, industrial 8, public 2.5.
    """
    problem = Problem.from_net(three_feeders())
    rel = bus_reliability(problem, problem.start_closed)
    np.testing.assert_allclose(rel.unavailability_h_per_year, [0, 1.1, 1.5, 0.3, 0.4, 0.2])
    np.testing.assert_allclose(rel.interruptions_per_year, [0, 0.3, 0.3, 0.3, 0.4, 0.2])
    a = assess(problem, problem.start_closed, weights=Weights())
    assert a.eens_mwh_per_year == pytest.approx(0.56)
    assert a.interruption_cost_per_year == pytest.approx(2140.0)
    # one hour of a year of that cost, at reliability weight 1
    assert a.cost["reliability"] == pytest.approx(2140.0 / 8760.0)


def test_feeder_breaker_when_l4_has_none():
    """Without its own breaker, a fault on L4 trips feeder B's breaker: bus 3 is out
    for the sectioning time too, 0.1 · 0.3 · 1 = 0.03 MWh/a more."""
    problem = Problem.from_net(three_feeders(breaker_on_l4=False))
    a = assess(problem, problem.start_closed)
    assert a.eens_mwh_per_year == pytest.approx(0.59)


def test_tie_closed_elsewhere_changes_restoration():
    """Close T and open L4 (all lines switchable): bus 4 hangs off feeder C.

    Feeders: A = 1-2 (as before), B = 3 (L3), C = 5-4 (L5, T); open L4 is the tie
    now. L3: 3 re-fed over L4: 0.3·0.3·1 = 0.09; L5: 5, 4 re-fed over L4:
    0.2·0.3·1 = 0.06; T (0.05/a, feeder breaker L5 trips): 4 re-fed over L4 after
    1 h, 5 out 1 h: 0.05·0.3·1 = 0.015; L1, L2 as before 0.37. EENS = 0.535 MWh/a.
    """
    problem = Problem.from_net(three_feeders(), all_lines_switchable=True)
    closed = np.array([True, True, True, False, True, True])
    a = assess(problem, closed)
    assert a.feasible
    assert a.eens_mwh_per_year == pytest.approx(0.535)


def test_reliability_objective_prefers_the_cheaper_configuration():
    problem = Problem.from_net(three_feeders(), all_lines_switchable=True)
    sol = optimize(problem, weights=Weights.for_objective("reliability"))
    configs = {
        "start": problem.start_closed,
        "found": sol.plan[0],
    }
    eens = {k: assess(problem, v).eens_mwh_per_year for k, v in configs.items()}
    assert sol.status == "optimal"
    assert eens["found"] <= eens["start"]
    assert sol.assessment.cost["losses"] == 0.0
