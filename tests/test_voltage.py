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
