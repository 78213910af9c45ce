"""Figures that must not lie: energy not supplied, unknown states, errors of no estimate,
InfluxDB outage time, and bad data that cannot be identified.

::

    events (load_scale, diverging) ──► grid ──► recorder ──► grid/bus/load tables, kpis.json
    frozen influxd (SIGSTOP) ◄── writer: outage = time the database did not answer
    LV smart meters + gross error ──► WLS ──► flagged "not identifiable", nothing removed
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

from gridtwin.controllers.estimation.wls import Topology, WlsEstimator
from gridtwin.recording.influx_client import connect
from gridtwin.recording.influx_run import target_from_spec
from gridtwin.recording.influx_schema import Batch
from gridtwin.recording.influx_writer import InfluxWriter
from gridtwin.scenario import scenario_from_dict
from gridtwin.scenario.recording import InfluxSpec
from gridtwin.simulators.sensors import SensorModel
from gridtwin.world import run_scenario
from tests.conftest import base_scenario
from tests.influx_server import InfluxServer
from tests.test_estimation import _setup


@pytest.fixture(scope="module")
def diverging_run(tmp_path_factory):
    """case33bw, 3 h: loads x8 for 1 h (the power flow diverges), then x1.5 for 30 min."""
    data = base_scenario(
        events=[
            {"at": "30min", "type": "load_scale", "target": "all", "factor": 8, "duration": "1h"},
            {"at": "2h", "type": "load_scale", "target": "all", "factor": 1.5, "duration": "30min"},
        ]
    )
    data["time"]["duration"] = "3h"
    run = run_scenario(scenario_from_dict(data), out_dir=tmp_path_factory.mktemp("ls") / "run")
    return run


def test_demand_is_recorded_with_the_scale_the_power_flow_used(diverging_run):
    run_dir = diverging_run.run_dir
    grid = pd.read_parquet(run_dir / "grid.parquet").set_index("sim_time_s")
    load = pd.read_parquet(run_dir / "load.parquet")
    converged = grid["converged"].to_numpy(bool)
    assert converged.sum() == 8 and (~converged).sum() == 4  # the x8 hour diverges
    # every converged step: no outage, so demand is what was served, element by element
    by_step = load.groupby("sim_time_s")
    for t, rows in by_step:
        if grid.loc[t, "converged"]:
            np.testing.assert_allclose(rows["demand_p_mw"], rows["p_mw"], rtol=1e-9)
    np.testing.assert_allclose(
        grid["load_demand_p_mw"][converged], grid["load_p_mw"][converged], rtol=1e-9
    )
    base = grid["load_demand_p_mw"].iloc[0]
    np.testing.assert_allclose(grid.loc[[1800, 2700, 3600, 4500], "load_demand_p_mw"], 8 * base)
    np.testing.assert_allclose(grid.loc[[7200, 8100], "load_demand_p_mw"], 1.5 * base)
    assert diverging_run.kpis["grid"]["energy_not_supplied_mwh"] == 0.0


def test_a_non_converged_step_is_unknown_not_a_blackout(diverging_run):
    run_dir = diverging_run.run_dir
    grid = pd.read_parquet(run_dir / "grid.parquet").set_index("sim_time_s")
    bus = pd.read_parquet(run_dir / "bus.parquet")
    unknown_steps = set(bus.loc[bus["energized"].isna(), "sim_time_s"])
    failed = set(grid.index[~grid["converged"].to_numpy(bool)])
    assert unknown_steps == failed
    assert grid.loc[sorted(failed), "deenergized_buses"].isna().all()
    assert (grid.loc[grid["converged"].to_numpy(bool), "deenergized_buses"] == 0).all()
    known = bus[~bus["sim_time_s"].isin(failed)]
    assert known["energized"].astype(bool).all()
    assert diverging_run.kpis["grid"]["deenergized_bus_steps"] == 0
    assert diverging_run.kpis["grid"]["pf_nonconverged_steps"] == len(failed)


def test_a_step_not_estimated_has_no_error_figure(tmp_path):
    """Only a substation voltage: never observable, so no vm_error_pu and no SE error KPI."""
    data = base_scenario(
        measurements={"plan": [{"device": "scada", "at": "substation"}]}, estimation={}
    )
    run = run_scenario(scenario_from_dict(data), out_dir=tmp_path / "se")
    est = pd.read_parquet(run.run_dir / "estimation.parquet")
    bus = pd.read_parquet(run.run_dir / "estimate_bus.parquet")
    assert not est["estimated"].any()
    assert bus["vm_error_pu"].isna().all()
    se = json.loads((run.run_dir / "kpis.json").read_text())["se"]
    assert se["steps_estimated"] == 0 and se["steps_not_estimated"] == 8
    assert se["vm_mae_pu"] is None and se["vm_max_abs_err_pu"] is None


@pytest.mark.parametrize("timeout_s", [None, 1.5], ids=["default-timeout", "timeout-1.5s"])
def test_influxdb_freeze_is_reported_as_the_time_it_did_not_answer(tmp_path, timeout_s):
    """influxd stopped (SIGSTOP) for 4 s while the writer sends; outage = those 4 s.

    With the scenario's default HTTP time-out (30 s) the first request hangs through the
    freeze and is answered after the thaw (a slow answer); with 1.5 s it times out and is
    retried. Both are the time the database did not answer.
    """
    server = InfluxServer(tmp_path / "influxd")
    server.start()
    try:
        options = {"url": server.url, "database": "freeze"}
        if timeout_s is not None:
            options["timeout_s"] = timeout_s
        spec = InfluxSpec(**options)
        assert spec.timeout_s == (timeout_s or 30)
        writer = InfluxWriter(connect(target_from_spec(spec, "test")), tmp_path / "spill.lp")
        frozen = {}

        def thaw():
            os.kill(server.proc.pid, signal.SIGCONT)
            frozen["s"] = time.monotonic() - frozen["at"]

        timer = threading.Timer(4.0, thaw)
        frozen["at"] = time.monotonic()
        os.kill(server.proc.pid, signal.SIGSTOP)
        timer.start()
        for i in range(5):
            writer.put(Batch(f"m,k=x v={i}i {i + 1}\n".encode(), "s", {"m": 1}))
        stats = writer.close(drain_timeout_s=60)
        session_s = time.monotonic() - frozen["at"]
        assert stats.points == 5 and stats.unsent_points == 0
        assert (stats.retries > 0) == (timeout_s is not None)
        if timeout_s is None:  # the hanging request was answered after the thaw: slow
            assert stats.slow_answers >= 1
        # from the first request (sent just after the freeze began) to the answer after the
        # thaw; a busy machine may send it late, hence half the freeze as the lower bound
        assert 0.5 * frozen["s"] <= stats.outage_s <= session_s, (stats, frozen)
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
        server.stop()


LV_PLAN = [
    {"device": "scada", "at": "substation"},
    {"device": "smart_meter", "at": "loads", "share": 0.7},
    {"device": "pseudo", "at": "rest"},
]


def test_bad_data_at_low_redundancy_is_flagged_not_identifiable_on_an_lv_grid():
    """SimBench LV rural 1, 70 % smart meters, pseudo-measurements for the rest; a gross
    error on one meter per trial. Where the culprit cannot be identified, nothing is removed."""
    net, truth, plan = _setup({"simbench": "1-LV-rural1--0-sw"}, LV_PLAN)
    est, topo = WlsEstimator(net, plan), Topology.from_net(net)
    model = SensorModel(plan, 900, seed=5)
    rng = np.random.default_rng(1)
    meters = [i for i, n in enumerate(plan.sc_name) if n.startswith("smart_meter:")]
    flagged = wrong = right = 0
    for k in range(12):
        frame = model.measure(k * 900, truth)
        i = int(rng.choice(meters))
        frame.value[i] += 30 * frame.sigma[i] + (0.05 if ":vm_pu" in plan.sc_name[i] else 0.01)
        result = est.estimate(frame, topo)
        if result.bad_data_not_identifiable:
            assert result.bad_data_detected and not result.removed
            flagged += 1
        wrong += sum(name != plan.sc_name[i] for name in result.removed)
        right += plan.sc_name[i] in result.removed
    assert wrong == 0  # never a good measurement removed
    assert flagged >= 3  # the situation the rule is for does occur on this grid
    assert flagged + right > 0
