"""Voltage control: each law on hand-checkable cases, device limits, acting on the estimate.

::

    Grid ──truth──► Sensors ──► Estimator ──estimate──► VoltageControl ──tap, Q, P──► Grid (+1 step)
      └──────── terminal voltage (local curves) ──────────►  ▲
"""

from __future__ import annotations

import numpy as np
import pytest

from gridtwin.controllers.voltage import PRESETS, CentralVoltageControl, Curve, Oltc, first_order
from gridtwin.grid.pgm_engine import PgmEngine
from gridtwin.grid.state import GridState
from gridtwin.report.voltage_kpis import band_per_bus
from gridtwin.scenario import scenario_from_dict
from gridtwin.world import prepare, run_scenario
from tests.conftest import base_scenario
from tests.test_cli import gridtwin

PLAN = [
    {"device": "scada", "at": "substation"},
    {"device": "scada", "at": "feeder_heads"},
    {"device": "scada", "at": "every_nth_bus", "n": 8},
    {"device": "smart_meter", "at": "sgens"},
    {"device": "pseudo", "at": "rest"},
]


def test_ieee1547_volt_var_and_volt_watt_points():
    """IEEE 1547-2018 category B: Q = +44 % at 0.92 pu, 0 in 0.98..1.02, -44 % at 1.08 pu."""
    q_u, p_u = PRESETS["ieee1547_b"]["q_u"], PRESETS["ieee1547_b"]["p_u"]
    v = np.array([0.90, 0.92, 0.95, 0.98, 1.00, 1.02, 1.05, 1.08, 1.12])
    assert q_u(v) == pytest.approx([0.44, 0.44, 0.22, 0.0, 0.0, 0.0, -0.22, -0.44, -0.44])
    assert p_u(np.array([1.0, 1.06, 1.08, 1.10, 1.2])) == pytest.approx([1.0, 1.0, 0.6, 0.2, 0.2])


def test_first_order_response():
    y = first_order(np.array([0.0]), np.array([1.0]), dt_s=10.0, tau_s=10.0)
    assert y == pytest.approx([1 - np.exp(-1)])
    assert first_order(np.array([0.0]), np.array([1.0]), 10.0, 0.0) == pytest.approx([1.0])


@pytest.mark.parametrize(
    ("v_pu", "y_pu", "fragment"),
    [
        ((1.0, 0.95, 1.05), (0.4, 0.0, -0.4), "not strictly increasing"),
        ((0.95, 1.0, 1.05), (0.0, 0.2, -0.4), "not non-increasing"),
    ],
)
def test_invalid_curves_are_rejected(v_pu, y_pu, fragment):
    with pytest.raises(ValueError, match=fragment):
        Curve(v_pu, y_pu)


def _oltc(**kw) -> Oltc:
    args = {
        "set_point_pu": 1.0,
        "dead_band_pu": 0.01,
        "delay_s": 0,
        "tap_min": -2,
        "tap_max": 2,
        "raise_per_tap_pu": -0.015,
    }
    args.update(kw)
    return Oltc(**args)


def test_oltc_dead_band_direction_and_limits():
    oltc = _oltc()
    assert oltc.step(0, 1.009, 0) == 0  # inside the band
    assert oltc.step(900, 0.991, 0) == 0
    # high voltage, tap changer on the HV side: a higher tap lowers the voltage
    assert oltc.step(1800, 1.03, 0) == 1
    assert oltc.step(2700, 1.03, 2) == 2  # at the limit: stays
    assert oltc.step(3600, 0.95, -2) == -2
    assert oltc.step(4500, 0.95, 0) == -1
    assert _oltc(raise_per_tap_pu=0.0125).step(0, 1.03, 0) == -1  # LV-side tap changer


def test_oltc_waits_for_its_delay():
    oltc = _oltc(delay_s=1800)
    assert [oltc.step(t, 1.03, 0) for t in (0, 900)] == [0, 0]
    assert oltc.step(1800, 1.03, 0) == 1
    assert oltc.step(2700, 1.03, 1) == 1  # the delay restarts after a step


def test_line_drop_compensation_lowers_the_controlled_voltage():
    oltc = _oltc(ldc_r_pu=0.05, ldc_x_pu=0.05)
    assert oltc.controlled_voltage(1.02, p_pu=0.2, q_pu=0.0) == pytest.approx(1.02 - 0.01 / 1.02)


@pytest.fixture(scope="module")
def high_pv():
    sc = scenario_from_dict(
        {
            "name": "hp",
            "time": {"start": "2016-06-19T13:00:00+01:00", "duration": "1h"},
            "grid": {"simbench": "1-MV-rural--0-sw"},
            "profiles": {"sgen_scale": 4.0},
        }
    )
    prep = prepare(sc)
    net = prep.net
    state = GridState.from_net(net)
    for element, quantity in (("load", "p_mw"), ("load", "q_mvar"), ("sgen", "p_mw")):
        getattr(state, f"{element}_{quantity}")[:] = prep.profiles.at(element, quantity, 0)
    return net, state, PgmEngine(net).solve(state)


def test_central_decision_respects_device_limits_and_the_band(high_pv):
    net, state, truth = high_pv
    low, high = band_per_bus(net.bus["vn_kv"].to_numpy(float), (0.95, 1.05), (0.9, 1.1))
    assert np.nanmax(np.where(np.isfinite(high), truth.bus_vm_pu, np.nan)) > 1.055
    ctl = CentralVoltageControl(
        net, vm_min_pu=low, vm_max_pu=high, tap_trafos=np.arange(len(net.trafo)), q_limit_pu=0.1
    )
    avail = state.sgen_p_mw * state.sgen_scale
    d = ctl.decide(truth.bus_vm_pu, state, avail, np.zeros(len(avail)), np.full(len(avail), np.inf))
    assert d.ok
    assert np.all(np.abs(d.q_set_mvar) <= ctl.q_max_mvar + 1e-9)
    curtailed = np.isfinite(d.p_limit_mw)
    assert np.all(
        (d.p_limit_mw[curtailed] >= -1e-9) & (d.p_limit_mw[curtailed] <= avail[curtailed])
    )
    assert ctl.tap_min <= d.tap <= ctl.tap_max
    # the decision, applied to the true grid, keeps every MV bus inside the band
    state.trafo_tap_pos[:] = d.tap
    state.sgen_q_set_mvar[:] = d.q_set_mvar
    state.sgen_p_limit_mw[:] = d.p_limit_mw
    after = PgmEngine(net).solve(state)
    banded = np.isfinite(high)
    assert after.bus_vm_pu[banded].max() <= 1.05 + 1e-3
    assert after.bus_vm_pu[banded].min() >= 0.95 - 1e-3
    assert np.abs(after.bus_vm_pu[ctl.banded] - d.vm_predicted_pu[ctl.banded]).max() < 2e-3


def _run(tmp_path, name, voltage_control, **extra):
    data = {
        "name": name,
        "time": {"start": "2016-06-21T09:00:00+01:00", "duration": "3h"},
        "grid": {"simbench": "1-MV-rural--0-sw"},
        "profiles": {"sgen_scale": 2.0},
        "measurements": {"plan": PLAN},
        "estimation": {},
        "voltage_control": voltage_control,
        **extra,
    }
    return run_scenario(scenario_from_dict(data), out_dir=tmp_path / name).kpis


def test_controllers_in_the_loop(tmp_path):
    import pandas as pd

    none = _run(tmp_path, "none", {})["voltage"]
    assert none["violation_minutes"] > 0 and none["tap_changes"] == 0
    central = _run(tmp_path, "central", {"central": {"margin_pu": 0.01}})["voltage"]
    assert central["violation_minutes"] == 0
    assert central["curtailed_share"] <= 0.01
    assert central["central_ms_p50"] > 0
    local = _run(tmp_path, "local", {"local": {}})["voltage"]
    assert local["violation_minutes"] <= none["violation_minutes"] / 2
    assert local["q_abs_mvarh"] > 0
    control = pd.read_parquet(tmp_path / "local" / "control.parquet")
    sgen = pd.read_parquet(tmp_path / "local" / "sgen.parquet")
    # a set-point commanded at step t is what the unit delivers at t + 1 step
    first = control[control.sim_time_s == 0].set_index("element").q_set_mvar
    delivered = sgen[sgen.sim_time_s == 900].set_index("element").q_mvar
    assert np.allclose(first.loc[delivered.index], delivered, equal_nan=False)


def test_oltc_follows_the_estimate_not_the_truth(tmp_path):
    """The busbar voltage reading is biased by +30 sigma (about +0.1 pu) and bad-data removal
    is off: the estimate is high, so the OLTC lowers the voltage although the truth is in band."""
    plan = [{"device": "scada", "at": "substation"}, {"device": "pseudo", "at": "rest"}]
    data = {
        "name": "biased",
        "time": {"start": "2016-06-19T02:00:00+01:00", "duration": "2h"},
        "grid": {"simbench": "1-MV-rural--0-sw"},
        "measurements": {"plan": plan},
        "estimation": {"max_bad_data_removals": 0},
        "voltage_control": {"oltc": {"set_point_pu": 1.02, "dead_band_pu": 0.03}},
    }
    honest = run_scenario(scenario_from_dict(data), out_dir=tmp_path / "honest").kpis
    assert honest["voltage"]["tap_changes"] == 0  # the truth sits within 1.02 +- 0.03 pu at night
    data["events"] = [
        {"at": 0, "type": "bad_data", "target": "scada:vm_pu:MV1.101 busbar1.1", "k_sigma": 30},
        {"at": 0, "type": "bad_data", "target": "scada:vm_pu:MV1.101 busbar1.2", "k_sigma": 30},
    ]
    biased = run_scenario(scenario_from_dict(data), out_dir=tmp_path / "biased").kpis
    assert biased["voltage"]["tap_changes"] >= 2
    assert biased["voltage"]["vm_min_pu"] < honest["voltage"]["vm_min_pu"] - 0.02


@pytest.mark.parametrize(
    ("voltage_control", "fragment"),
    [
        ({"band_mv_pu": [1.05, 0.95]}, "voltage_control.band_mv_pu: lower limit 1.05 is not below"),
        (
            {"local": {"q_u": {"v_pu": [0.95, 1.0, 1.05], "y_pu": [0.0, 0.3, -0.3]}}},
            "voltage_control.local.q_u.y_pu: values [0.0, 0.3, -0.3] are not non-increasing",
        ),
        (
            {"local": {"p_u": {"v_pu": [1.1, 1.06], "y_pu": [1.0, 0.2]}}},
            "voltage_control.local.p_u.v_pu: voltages [1.1, 1.06] are not strictly increasing",
        ),
        ({"central": {}}, "central needs an estimation section"),
    ],
)
def test_bad_voltage_control_input_is_one_line_exit_2(write_scenario, voltage_control, fragment):
    path = write_scenario(base_scenario(voltage_control=voltage_control))
    proc = gridtwin("validate", str(path))
    assert proc.returncode == 2, proc.stdout
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert fragment in proc.stderr, proc.stderr


def _milp_reference(sq, sp, s_t, q_max, tap_range, costs, ub_v, lb_v, avail, tap_now):
    """The same program solved from scratch by scipy's HiGHS interface (relaxation)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_b, n_g = sq.shape
    w_c, w_q, w_t, w_s = costs
    a_v = np.hstack([sq, -sq, -sp, s_t[:, None], np.zeros((n_b, 1))])
    eye = np.eye(n_b)
    a = np.vstack([np.hstack([a_v, -eye]), np.hstack([-a_v, -eye])])
    tap_rows = np.zeros((2, a.shape[1]))
    k = 3 * n_g
    tap_rows[0, k], tap_rows[0, k + 1], tap_rows[1, k], tap_rows[1, k + 1] = 1, -1, -1, -1
    cost = np.concatenate([np.full(2 * n_g, w_q), np.full(n_g, w_c), [0.0, w_t], np.full(n_b, w_s)])
    lo = np.zeros(len(cost))
    lo[k] = tap_range[0]
    hi = np.concatenate([q_max, q_max, avail, [tap_range[1], np.inf], np.full(n_b, np.inf)])
    cons = [
        LinearConstraint(a, -np.inf, np.concatenate([ub_v, -lb_v])),
        LinearConstraint(tap_rows, -np.inf, [tap_now, -tap_now]),
    ]
    return milp(cost, constraints=cons, bounds=Bounds(lo, hi))


def test_warm_started_program_gives_the_cold_optimum(high_pv):
    """One program per linearization, re-solved for new voltages, powers and taps from the
    previous basis: every optimum equals the one solved from scratch (scipy's HiGHS) and
    the one of a freshly built program, within the solver tolerance."""
    from gridtwin.controllers.voltage.lp import VoltageLp

    net, state, truth = high_pv
    low, high = band_per_bus(net.bus["vn_kv"].to_numpy(float), (0.95, 1.05), (0.9, 1.1))
    ctl = CentralVoltageControl(net, vm_min_pu=low, vm_max_pu=high, tap_trafos=np.arange(2))
    s_q, s_p, s_t = ctl.sensitivities(state)
    sq, sp = s_q[:, ctl.sgen_col], s_p[:, ctl.sgen_col]
    args = (sq, sp, s_t, ctl.q_max_mvar, (ctl.tap_min, ctl.tap_max), ctl.costs)
    warm = VoltageLp(*args)
    rng = np.random.default_rng(0)
    v0 = truth.bus_vm_pu[ctl.banded]
    avail0 = state.sgen_p_mw * state.sgen_scale
    for k in range(8):  # voltages from in band to far above it, changing availability
        v = v0 + rng.normal(0.0, 0.01) + 0.004 * k
        avail = avail0 * rng.uniform(0.5, 1.0, len(avail0))
        tap_now = int(rng.integers(-1, 2))
        const = v - s_t * tap_now
        ub, lb = ctl.vm_max - const, ctl.vm_min - const
        got = warm.solve(ub, lb, avail, tap_now)
        fresh = VoltageLp(*args).solve(ub, lb, avail, tap_now)
        ref = _milp_reference(*args, ub, lb, avail, tap_now)
        assert got is not None and fresh is not None and ref.x is not None
        tap = got.x[3 * len(avail)]
        assert tap == pytest.approx(round(tap))  # an integer tap
        assert got.fun == pytest.approx(fresh.fun, rel=1e-7, abs=1e-7)
        if abs(ref.x[3 * len(avail)] - round(ref.x[3 * len(avail)])) < 1e-6:
            assert got.fun == pytest.approx(ref.fun, rel=1e-7, abs=1e-7)
        else:  # the relaxation is a lower bound of the integer-tap optimum
            assert got.fun >= ref.fun - 1e-7


def test_linearization_is_renewed_on_tap_and_topology_changes_and_hourly(high_pv):
    from dataclasses import replace

    net, state, truth = high_pv
    low, high = band_per_bus(net.bus["vn_kv"].to_numpy(float), (0.95, 1.05), (0.9, 1.1))
    ctl = CentralVoltageControl(
        net, vm_min_pu=low, vm_max_pu=high, tap_trafos=np.arange(2), relinearize_every=3
    )
    avail = state.sgen_p_mw * state.sgen_scale
    q0, p0 = np.zeros(len(avail)), np.full(len(avail), np.inf)

    def decide(s):
        return ctl.decide(truth.bus_vm_pu, s, avail, q0, p0)

    first = [decide(state) for _ in range(3)]
    assert ctl.linearizations == 1
    # the same inputs, the same linearization: the warm-started decisions are the cold one
    for d in first[1:]:
        assert np.allclose(d.vm_predicted_pu, first[0].vm_predicted_pu, atol=1e-9)
        assert d.tap == first[0].tap
    decide(state)
    assert ctl.linearizations == 2  # the fourth decision: relinearized
    tapped = replace(state, trafo_tap_pos=state.trafo_tap_pos + 1)
    decide(tapped)
    assert ctl.linearizations == 3
    closed = state.switch_closed.copy()
    closed[np.flatnonzero(closed)[0]] = False
    decide(replace(tapped, switch_closed=closed))
    assert ctl.linearizations == 4
