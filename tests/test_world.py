"""Whole runs through the mosaik world: events, failures, determinism, the store.

::

    Profiles ──► Grid ──► Recorder ──► <run>/*.parquet, kpis.json
    Events ───►  ▲ └─────────►▲
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gridtwin.scenario import load_scenario
from gridtwin.world import run_scenario
from tests.conftest import base_scenario

STEP_S = 900


def _run(write_scenario, tmp_path, data, name="run"):
    scenario = load_scenario(write_scenario(data, name=f"{name}.yaml"))
    return run_scenario(scenario, out_dir=tmp_path / name)


def test_islanded_bus_is_dead_and_counted(write_scenario, tmp_path):
    """Line 20 of case33bw feeds bus 21 alone: out from 30 min for 30 min."""
    data = base_scenario(
        events=[{"at": "30min", "type": "line_outage", "target": 20, "duration": "30min"}]
    )
    result = _run(write_scenario, tmp_path, data)
    bus = pd.read_parquet(result.run_dir / "bus.parquet")
    dead = bus[~bus.energized]
    assert sorted(dead.sim_time_s.unique().tolist()) == [1800, 2700]
    assert dead.element.astype(str).unique().tolist() == ["bus 21"]
    assert (dead.vm_pu == 0).all()
    load = pd.read_parquet(result.run_dir / "load.parquet")
    cut = load[(load.sim_time_s == 1800) & (load.p_mw == 0)]
    assert len(cut) == 1 and cut.demand_p_mw.iloc[0] > 0
    grid = result.kpis["grid"]
    assert grid["deenergized_bus_steps"] == 2
    assert grid["energy_not_supplied_mwh"] == pytest.approx(2 * cut.demand_p_mw.iloc[0] * 0.25)
    assert grid["pf_nonconverged_steps"] == 0
    events = pd.read_parquet(result.run_dir / "events.parquet")
    assert events[["sim_time_s", "type"]].values.tolist() == [
        [1800, "line_outage"],
        [3600, "line_restore"],
    ]


def test_nonconverging_steps_are_counted_and_the_run_goes_on(write_scenario, tmp_path):
    """All loads x20 from 1 h for 30 min: exactly those 2 steps fail, the rest converge."""
    data = base_scenario(
        events=[
            {"at": "1h", "type": "load_scale", "target": "all", "factor": 20, "duration": "30min"}
        ]
    )
    result = _run(write_scenario, tmp_path, data)
    assert result.kpis["grid"]["pf_nonconverged_steps"] == 2
    assert result.kpis["run"]["steps"] == 8
    grid = pd.read_parquet(result.run_dir / "grid.parquet")
    failed = grid.loc[~grid.converged, "sim_time_s"].tolist()
    assert failed == [3600, 4500]
    assert grid.loc[~grid.converged, "losses_mw"].isna().all()
    assert grid.loc[grid.converged, "losses_mw"].gt(0).all()


def test_switch_events_recorded_at_their_step(write_scenario, tmp_path):
    data = base_scenario(
        grid={"pandapower": "cigre_mv", "options": {"with_der": "pv_wind"}},
        events=[
            {"at": "45min", "type": "switch_close", "target": "S2"},
            {"at": "1h15min", "type": "switch_open", "target": "S2"},
        ],
    )
    result = _run(write_scenario, tmp_path, data)
    switch = pd.read_parquet(result.run_dir / "switch.parquet")
    s2 = switch[switch.element == "S2"]
    assert s2[["sim_time_s", "closed"]].values.tolist() == [[0, False], [2700, True], [4500, False]]


def test_sgen_scale_event_changes_generation(write_scenario, tmp_path):
    data = base_scenario(
        grid={"pandapower": "cigre_mv", "options": {"with_der": "pv_wind"}},
        events=[{"at": "1h", "type": "sgen_scale", "target": "all", "factor": 0}],
    )
    result = _run(write_scenario, tmp_path, data)
    grid = pd.read_parquet(result.run_dir / "grid.parquet").set_index("sim_time_s")
    assert (grid.loc[:2700, "sgen_p_mw"] > 0).all()
    assert (grid.loc[3600:, "sgen_p_mw"] == 0).all()


def test_same_scenario_same_seed_identical_parquet(write_scenario, tmp_path):
    data = base_scenario(
        grid={"simbench": "1-MV-rural--0-sw"},
        time={"start": "2016-03-01T00:00:00+01:00", "duration": "6h", "step": "15min"},
        events=[{"at": "2h", "type": "switch_open", "target": 10}],
        recording={"flush_every_steps": 7},
    )
    a = _run(write_scenario, tmp_path, data, "a")
    b = _run(write_scenario, tmp_path, data, "b")
    tables = sorted(p.name for p in a.run_dir.glob("*.parquet"))
    assert tables == [
        "bus.parquet",
        "command.parquet",
        "events.parquet",
        "grid.parquet",
        "line.parquet",
        "load.parquet",
        "sgen.parquet",
        "storage.parquet",
        "switch.parquet",
        "trafo.parquet",
    ]
    for table in tables:
        pd.testing.assert_frame_equal(
            pd.read_parquet(a.run_dir / table), pd.read_parquet(b.run_dir / table), check_exact=True
        )
    assert len(list((a.run_dir / "bus.parquet").glob("part-*.parquet"))) == 4  # 24 steps / 7


def test_run_store_contents_and_kpis(write_scenario, tmp_path):
    data = base_scenario(
        grid={"simbench": "1-MV-rural--0-sw"},
        time={"start": "2016-06-21T00:00:00+01:00", "duration": "2h", "step": "15min"},
    )
    result = _run(write_scenario, tmp_path, data)
    run_dir = result.run_dir
    assert {"scenario.yaml", "kpis.json", "run.log"} <= {p.name for p in run_dir.iterdir()}
    kpis = json.loads((run_dir / "kpis.json").read_text())
    for key in ("steps", "wall_s", "sim_seconds"):
        assert key in kpis["run"]
    for key in (
        "pf_nonconverged_steps",
        "vm_min_pu",
        "vm_max_pu",
        "line_loading_max_percent",
        "losses_mwh",
        "energy_consumed_mwh",
        "energy_generated_mwh",
    ):
        assert key in kpis["grid"]
    assert kpis["run"]["steps"] == 8 and kpis["run"]["sim_seconds"] == 7200
    bus = pd.read_parquet(run_dir / "bus.parquet")
    assert list(bus.columns) == [
        "time",
        "sim_time_s",
        "element",
        "vm_pu",
        "va_degree",
        "p_mw",
        "q_mvar",
        "energized",
    ]
    assert len(bus) == 8 * 97
    assert str(bus.time.dt.tz) == "UTC"
    assert bus.time.iloc[0] == pd.Timestamp("2016-06-20T23:00:00Z")
    assert kpis["grid"]["vm_min_pu"] == pytest.approx(bus.vm_pu.min())
    assert kpis["grid"]["vm_max_pu"] == pytest.approx(bus.vm_pu.max())
    line = pd.read_parquet(run_dir / "line.parquet")
    assert kpis["grid"]["line_loading_max_percent"] == pytest.approx(line.loading_percent.max())
    grid = pd.read_parquet(run_dir / "grid.parquet")
    assert kpis["grid"]["losses_mwh"] == pytest.approx(grid.losses_mw.sum() * 0.25)
    # energy balance over the run: import + generation = consumption + losses
    g = kpis["grid"]
    assert g["energy_imported_mwh"] + g["energy_generated_mwh"] == pytest.approx(
        g["energy_consumed_mwh"] + g["losses_mwh"], abs=1e-6
    )
    # SimBench profiles really drive the loads: the demand changes over the day
    load = pd.read_parquet(run_dir / "load.parquet")
    assert load.groupby("sim_time_s").p_mw.sum().nunique() == 8
    text = (run_dir / "scenario.yaml").read_text()
    assert "interpolation: hold" in text and "engine: power-grid-model" in text


def test_pandapower_engine_gives_same_store(write_scenario, tmp_path):
    data = base_scenario()
    a = _run(write_scenario, tmp_path, data, "pgm")
    data["grid"]["engine"] = "pandapower"
    b = _run(write_scenario, tmp_path, data, "pp")
    va = pd.read_parquet(a.run_dir / "bus.parquet").vm_pu.to_numpy()
    vb = pd.read_parquet(b.run_dir / "bus.parquet").vm_pu.to_numpy()
    np.testing.assert_allclose(va, vb, atol=1e-6)
