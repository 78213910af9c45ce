"""InfluxDB sink against a real influxd: every Parquet row is a point, schema and timestamps.

::

    scenario ──► world ──► Recorder ──► ParquetStore (run dir)
                                 └────► InfluxSink ──► writer thread ──► influxd (fixture)
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gridtwin.scenario import InfluxSpec, load_scenario, scenario_from_dict
from gridtwin.world import run_scenario
from tests.conftest import REPO, base_scenario
from tests.influx_helpers import assert_counts_match, influx_count, run_id_of


@pytest.fixture(scope="module")
def se_run(influx, tmp_path_factory) -> Path:
    """mv-rural-estimation for 16 h (SE tables, events, bad data removed) into database 'se'."""
    sc = load_scenario(REPO / "scenarios" / "mv-rural-estimation.yaml")
    sc.time.duration = 16 * 3600
    sc.recording.influx = InfluxSpec(url=influx.url, database="se", batch_points=5000)
    result = run_scenario(sc, out_dir=tmp_path_factory.mktemp("se") / "se-run")
    assert result.influx.complete, result.influx.as_dict()
    return result.run_dir


def test_every_parquet_row_is_a_point(influx, se_run):
    got = assert_counts_match(influx, "se", se_run)
    assert got[("bus", None)] == 64 * 97
    assert got[("estimate", "bad_data_removed")] > 0
    assert got[("event", None)] == 4


def test_tags_fields_and_simulated_time(influx, se_run):
    answer = influx.query(
        'SELECT "vm_pu", "energized", "feeder", "scenario" FROM "bus" '
        "WHERE \"element\" = 'MV1.101 Bus 40' ORDER BY time LIMIT 2",
        db="se",
    )
    series = answer["results"][0]["series"][0]
    cols, rows = series["columns"], series["values"]
    first = dict(zip(cols, rows[0], strict=True))
    start = int(
        load_scenario(REPO / "scenarios" / "mv-rural-estimation.yaml").time.start.timestamp()
    )
    assert first["time"] == start and rows[1][0] == start + 900
    assert first["feeder"].startswith("F") and first["scenario"] == "mv-rural-estimation"
    assert first["energized"] is True and 0.9 < first["vm_pu"] < 1.1
    import pandas as pd

    bus = pd.read_parquet(se_run / "bus.parquet")
    truth = bus[(bus.element == "MV1.101 Bus 40") & (bus.sim_time_s == 0)].vm_pu.item()
    assert first["vm_pu"] == truth  # shortest round-trip text: the same double


def test_kpis_are_points(influx, se_run):
    answer = influx.query(
        f'SELECT "losses_mwh" FROM "kpi" WHERE "run_id" = \'{run_id_of(se_run)}\' AND "section" = \'grid\'',
        db="se",
    )
    import json

    kpis = json.loads((se_run / "kpis.json").read_text())
    assert answer["results"][0]["series"][0]["values"][0][1] == pytest.approx(
        kpis["grid"]["losses_mwh"]
    )


def test_real_time_mode_stamps_wall_clock(influx, tmp_path):
    data = base_scenario(name="rt")
    data["time"] = {**data["time"], "duration": "1h", "real_time_factor": 0.0002}
    sc = scenario_from_dict(data)
    sc.recording.influx = InfluxSpec(url=influx.url, database="rt")
    before = time.time()
    result = run_scenario(sc, out_dir=tmp_path / "rt")
    assert result.influx.complete
    answer = influx.query('SELECT "vm_min_pu", "sim_time_s" FROM "grid"', db="rt")
    rows = answer["results"][0]["series"][0]["values"]
    assert [r[2] for r in rows] == [0, 900, 1800, 2700]
    assert all(before - 1 <= r[0] <= time.time() + 1 for r in rows)
    assert influx_count(influx, "rt", result.kpis["run"]["run_id"], "bus", None) == 4 * 33
