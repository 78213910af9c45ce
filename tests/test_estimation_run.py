"""State estimation in the co-simulation loop, and the scenario checks for it.

::

    Grid ──result──► Sensors ──frame──► Estimator ──estimate──► Recorder
     └─ switch states ──────────────────►  ▲          Events ──► Sensors (bad data)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridtwin.scenario import load_scenario
from gridtwin.world import run_scenario
from tests.conftest import base_scenario
from tests.test_cli import gridtwin

SE_KEYS = {
    "steps_estimated",
    "steps_not_estimated",
    "vm_mae_pu",
    "vm_max_abs_err_pu",
    "va_mae_degree",
    "line_loading_mae_percent",
    "bad_data_injected",
    "bad_data_detected",
    "bad_data_identified",
    "false_alarms",
    "ms_per_estimate_p50",
    "ms_per_estimate_p95",
}


@pytest.fixture(scope="module")
def estimation_run(repo, tmp_path_factory):
    """The shipped scenario up to 8 h: the 20-sigma event runs from 6 h to 7 h."""
    scenario = load_scenario(repo / "scenarios" / "mv-rural-estimation.yaml")
    scenario.time.duration = 8 * 3600
    scenario.events = scenario.events[:1]
    return run_scenario(scenario, out_dir=tmp_path_factory.mktemp("se") / "run")


def test_loop_reports_se_kpis_and_catches_the_bad_data(estimation_run):
    se = estimation_run.kpis["se"]
    assert SE_KEYS <= set(se)
    assert se["steps_estimated"] + se["steps_not_estimated"] == 32
    assert se["bad_data_injected"] == 4  # 6:00, 6:15, 6:30, 6:45
    assert se["bad_data_detected"] == 4 and se["bad_data_identified"] == 4
    assert 0 < se["vm_mae_pu"] < 0.005
    assert se["vm_max_abs_err_pu"] >= se["vm_mae_pu"]


def test_store_holds_truth_measurements_and_estimates(estimation_run):
    run = estimation_run.run_dir
    bus = pd.read_parquet(run / "bus.parquet")
    est = pd.read_parquet(run / "estimate_bus.parquet")
    meas = pd.read_parquet(run / "measurement.parquet")
    status = pd.read_parquet(run / "estimation.parquet")
    removed = pd.read_parquet(run / "bad_data_removed.parquet")
    assert len(est) == len(bus)
    merged = est.merge(bus, on=["sim_time_s", "element"], suffixes=("_est", "_true"))
    assert np.allclose(merged.vm_pu_est - merged.vm_pu_true, merged.vm_error_pu)
    target = "scada:vm_pu:MV1.101 Bus 40"
    hit = meas[meas.element.astype(str) == target]
    assert hit[hit.corrupted].sim_time_s.tolist() == [21600, 22500, 23400, 24300]
    assert set(removed.element.astype(str)) >= {target}
    assert status.estimated.all() and len(status) == 32
    assert (status.compute_ms > 0).all()


def test_same_seed_same_run(repo, tmp_path):
    scenario = load_scenario(repo / "scenarios" / "mv-rural-estimation.yaml")
    scenario.time.duration = 3600
    scenario.events = []
    a = run_scenario(scenario, out_dir=tmp_path / "a")
    b = run_scenario(scenario, out_dir=tmp_path / "b")
    for table in ("measurement", "estimate_bus"):
        ta = pd.read_parquet(a.run_dir / f"{table}.parquet")
        tb = pd.read_parquet(b.run_dir / f"{table}.parquet")
        pd.testing.assert_frame_equal(ta, tb)


@pytest.mark.parametrize(
    ("measurements", "events", "fragment"),
    [
        (
            {"plan": [{"device": "pmu", "at": "names", "element": "bus", "names": ["Bus 99"]}]},
            [],
            "measurements.plan[0].names: got 'Bus 99'",
        ),
        (
            {
                "classes": {"scada": {"accuracy_percent": 0}},
                "plan": [{"device": "scada", "at": "substation"}],
            },
            [],
            "measurements.classes.scada.accuracy_percent: got 0; expected greater than 0",
        ),
        (
            {
                "classes": {"smart_meter": {"dropout_probability": 1.5}},
                "plan": [{"device": "scada", "at": "substation"}],
            },
            [],
            "dropout_probability: got 1.5; expected less than or equal to 1",
        ),
        (
            {"plan": [{"device": "scada", "at": "substation"}]},
            [{"at": "15min", "type": "bad_data", "target": "scada:vm_pu:bus 7"}],
            "events[0].target: got 'scada:vm_pu:bus 7'; no measurement of that name",
        ),
        (
            {"plan": [{"device": "gps", "at": "substation"}]},
            [],
            "measurements.plan[0].device: got 'gps'; expected 'scada', 'pmu', 'smart_meter' or 'pseudo'",
        ),
    ],
)
def test_bad_measurement_input_is_one_line_exit_2(write_scenario, measurements, events, fragment):
    path = write_scenario(base_scenario(measurements=measurements, events=events))
    proc = gridtwin("validate", str(path))
    assert proc.returncode == 2, proc.stdout
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert fragment in proc.stderr, proc.stderr


def test_estimation_without_measurements_is_rejected(write_scenario):
    proc = gridtwin("validate", str(write_scenario(base_scenario(estimation={}))))
    assert proc.returncode == 2
    assert "estimation: needs a measurements section" in proc.stderr
