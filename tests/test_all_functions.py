"""The fixes for the interference of automation functions run together (issue 13, item 6).

- forecast pseudo-measurements: the common error of a target's elements is
  inflated so that the sum of a feeder's pseudo-measurements carries the
  target's variance (:func:`common_error_inflation`);
- an sgen's pseudo-measurement follows the set-points the control centre
  commanded (:meth:`SensorModel._from_commands`);
- the central voltage controller holds its set-points when no estimate arrives;
- the reconfiguration controller holds the configuration when a plan does not
  beat holding on two forecasts by its switching cost there and back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandapower.networks as pn

from gridtwin.controllers.forecasting.forecaster import common_error_inflation
from gridtwin.controllers.reconfig import Problem, Weights
from gridtwin.controllers.reconfig.controller import Controller, Observation
from gridtwin.controllers.voltage import VoltageController
from gridtwin.grid.state import GridState
from gridtwin.simulators.sensors import COMMANDED_ACCURACY_PERCENT, SensorModel
from tests.test_estimation import _setup


def test_common_error_inflation_makes_the_sum_carry_the_targets_variance():
    target = np.array([0, 0, 0, 0, 1, 2, 2])
    share = np.array([0.25, 0.25, 0.25, 0.25, 1.0, 0.9, 0.1])
    f = common_error_inflation(target, share, 3)
    assert np.allclose(f[:4], 2.0)  # four equal shares: sqrt(4)
    assert f[4] == 1.0  # a target of one element
    # the independent model's variance of the sum equals the fully correlated one
    sigma_t = 3.0
    for t in range(3):
        w = share[target == t]
        independent = np.sum((w * sigma_t * f[target == t]) ** 2)
        assert np.isclose(independent, (w.sum() * sigma_t) ** 2)


@dataclass
class _Commands:
    q_set_mvar: np.ndarray
    p_limit_mw: np.ndarray


def test_sgen_pseudo_measurements_follow_the_commanded_set_points():
    plan_spec = [{"device": "scada", "at": "substation"}, {"device": "pseudo", "at": "rest"}]
    net, truth, plan = _setup({"simbench": "1-MV-rural--0-sw"}, plan_spec)
    n = len(net.sgen)
    q_set = np.full(n, np.nan)
    q_set[0] = -0.5
    p_limit = np.full(n, np.inf)
    p_limit[1] = 0.0  # fully curtailed
    names = list(net.sgen["name"])
    q0 = plan.scalar_index(f"pseudo:q_mvar:{names[0]}")
    p1 = plan.scalar_index(f"pseudo:p_mw:{names[1]}")
    q2 = plan.scalar_index(f"pseudo:q_mvar:{names[2]}")
    plain = SensorModel(plan, 900, 0).measure(0, truth)
    frame = SensorModel(plan, 900, 0).measure(0, truth, commanded=_Commands(q_set, p_limit))
    assert frame.value[q0] == -0.5
    assert np.isclose(frame.sigma[q0], COMMANDED_ACCURACY_PERCENT / 300 * 0.5)
    assert frame.value[p1] == 0.0
    # no command: the same reading as without commands (same noise draws)
    assert frame.value[q2] == plain.value[q2] and frame.sigma[q2] == plain.sigma[q2]


class _FixedCentral:
    """A central controller that always decides the same set-points."""

    def __init__(self, n: int) -> None:
        self.q = np.full(n, -0.3)

    def decide(self, vm, state, avail, q_now, p_now, next_topology=None):
        from gridtwin.controllers.voltage.central import CentralDecision

        return CentralDecision(None, self.q.copy(), np.full(len(self.q), np.inf), vm, True, 0.0)


def test_central_set_points_stand_when_no_estimate_arrives():
    net = pn.case33bw()
    net.sgen.drop(net.sgen.index, inplace=True)
    for bus in (17, 32):
        net.sgen.loc[len(net.sgen), ["bus", "p_mw", "q_mvar", "sn_mva", "in_service"]] = (
            bus,
            0.5,
            0.0,
            1.0,
            True,
        )
    ctl = VoltageController(2, np.zeros(0, dtype=np.int64), central=_FixedCentral(2))  # type: ignore[arg-type]
    state = GridState.from_net(net)
    kwargs = dict(
        tap_now=np.zeros(len(net.trafo), dtype=np.int64),
        v_regulated_pu=None,
        vm_terminal_pu=np.ones(2),
        known=state,
        sgen_available_mw=np.full(2, 0.5),
    )
    first = ctl.step(0, vm_estimate_pu=np.ones(len(net.bus)), **kwargs)
    assert np.allclose(first.q_set_mvar, -0.3)
    missing = ctl.step(900, vm_estimate_pu=None, **kwargs)
    assert np.allclose(missing.q_set_mvar, -0.3)  # held, not the profile's Q


def _controller(robust: bool, switching_cost: float) -> tuple[Controller, Observation]:
    problem = Problem.from_net(pn.case33bw(), all_lines_switchable=True)
    ctrl = Controller(
        problem,
        Weights(reliability=0.0, switching_cost=switching_cost),
        step_s=3600,
        every_s=3600,
        horizon_s=3600,
        period_s=3600,
        forecast="hold",
        max_evaluations=300,
        robust=robust,
    )
    net = problem.net
    obs = Observation(
        0,
        np.zeros(0, dtype=bool),
        net.line["in_service"].to_numpy(dtype=bool),
        net.load["p_mw"].to_numpy(float),
        net.load["q_mvar"].to_numpy(float),
        np.zeros(len(net.sgen)),
        np.zeros(len(net.sgen)),
    )
    return ctrl, obs


def test_reconfiguration_holds_when_the_gain_does_not_pay_for_switching_back():
    # case33bw: the best move at 0.75 EUR per operation is one loop exchange (2 operations)
    # that saves about 2.5 EUR of losses in the hour: it pays for itself (1.5 EUR) ...
    ctrl, obs = _controller(robust=False, switching_cost=0.75)
    command, records = ctrl.step(obs)
    r = records[0]
    saving = 50.0 * (r.losses_mwh_before - r.losses_mwh_after)
    assert command is not None and r.operations == 2
    assert 1.5 < saving < 3.0
    # ... but not for the way back as well (3 EUR): the robust controller holds
    ctrl, obs = _controller(robust=True, switching_cost=0.75)
    command, records = ctrl.step(obs)
    assert command is None
    assert records[0].status == "held" and records[0].operations == 0
    assert "not more than the 1.5 EUR of switching" in records[0].reason
    # cheap switching: the robust controller carries the plan out
    ctrl, obs = _controller(robust=True, switching_cost=0.01)
    command, records = ctrl.step(obs)
    assert command is not None and records[0].status != "held"


def test_central_control_plans_on_the_topology_the_control_centre_ordered():
    """A noise-free estimate of today's topology, moved to the ordered one, is that one's truth."""
    from gridtwin.controllers.voltage import CentralVoltageControl
    from gridtwin.grid.pgm_engine import PgmEngine
    from gridtwin.grid.sources import load_net
    from gridtwin.report.voltage_kpis import band_per_bus
    from gridtwin.scenario import scenario_from_dict

    sc = scenario_from_dict(
        {
            "name": "vc",
            "time": {"start": "2016-06-21T12:00:00+01:00", "duration": "1h"},
            "grid": {"simbench": "1-MV-rural--0-sw"},
        }
    )
    net = load_net(sc.grid)
    state = GridState.from_net(net)
    low, high = band_per_bus(net.bus["vn_kv"].to_numpy(float), (0.95, 1.05), (0.9, 1.1))
    ctl = CentralVoltageControl(net, vm_min_pu=low, vm_max_pu=high)
    engine = PgmEngine(net)
    now = engine.solve(state)
    closed = np.ones(len(net.switch), dtype=bool)  # the ordered switching: close every tie
    assert not state.switch_closed.all()
    moved = ctl._shifted_to((closed, state.line_in_service), now.bus_vm_pu, state)
    assert moved is not None
    vm_next, after = moved
    assert after.switch_closed.all() and not state.switch_closed.all()
    state.switch_closed[:] = True
    truth_next = engine.solve(state)
    assert np.abs(vm_next[ctl.banded] - truth_next.bus_vm_pu[ctl.banded]).max() < 1e-6
    assert np.abs(now.bus_vm_pu[ctl.banded] - truth_next.bus_vm_pu[ctl.banded]).max() > 1e-4
    # no change ordered: nothing moves
    assert ctl._shifted_to((state.switch_closed, state.line_in_service), vm_next, state) is None


def test_all_functions_scenario_meets_its_targets(tmp_path):
    """mv-rural-all-functions for 60 h (the fault, the repair and the bad data inside)."""
    from pathlib import Path

    from gridtwin.scenario import load_scenario
    from gridtwin.world import run_scenario

    path = Path(__file__).resolve().parents[1] / "scenarios" / "mv-rural-all-functions.yaml"
    sc = load_scenario(path)
    sc.time.duration = 60 * 3600
    alone = sc.model_copy(deep=True)  # the voltage controller alone, on the same estimator
    for section in ("forecasting", "reconfiguration", "flisr"):
        setattr(alone, section, None)
    alone.events = [e for e in sc.events if str(e.type).startswith("bad_data")]
    alone.name = "vc-alone"
    k = run_scenario(sc, out_dir=tmp_path / "all").kpis
    k_alone = run_scenario(alone, out_dir=tmp_path / "alone").kpis
    se = k["se"]
    clean = se["steps_estimated"] - se["bad_data_injected"]
    assert se["false_alarms"] <= 0.06 * clean
    assert se["bad_data_injected"] > 0
    assert se["bad_data_identified"] == se["bad_data_injected"]
    assert k["flisr"]["faults_located_correctly"] == 1 and k["flisr"]["restored_share"] == 1.0
    assert k["voltage"]["violation_minutes"] <= k_alone["voltage"]["violation_minutes"]
    assert k["reconfig"]["losses_mwh"] <= k["reconfig"]["losses_mwh_static"]
