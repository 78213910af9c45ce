"""Recorded measurements replacing the simulated sensors (``measurements_file:``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from gridtwin.errors import InputError
from gridtwin.scenario import scenario_from_dict
from gridtwin.world import prepare, run_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
NAME = "scada:vm_pu:MV1.101 Bus 40"


def _data(tmp_path: Path, text: str) -> dict:
    data = yaml.safe_load((SCENARIOS / "mv-rural-estimation.yaml").read_text())
    data["time"]["duration"] = "3h"
    data["events"] = []
    data["recording"] = {"tables": ["grid"]}
    (tmp_path / "m.csv").write_text(text)
    data["measurements_file"] = str(tmp_path / "m.csv")
    return data


def test_recorded_readings_replace_simulated_ones_for_their_period(tmp_path):
    """Records at 1 h and 1 h 30 (steps 4 and 6): step 5 in between delivers nothing."""
    text = f"at,measurement,value,sigma\n1h,{NAME},1.0321,0.004\n90min,{NAME},1.0312,\n"
    run = run_scenario(
        scenario_from_dict(_data(tmp_path, text), source="s.yaml"), out_dir=tmp_path / "r"
    ).run_dir
    m = pd.read_parquet(run / "measurement.parquet")
    m = m[m["element"] == NAME].set_index(m["sim_time_s"][m["element"] == NAME] // 900)
    assert m.loc[4, "value"] == 1.0321 and m.loc[4, "sigma"] == 0.004 and m.loc[4, "valid"]
    assert not m.loc[5, "valid"]
    assert m.loc[6, "value"] == 1.0312 and m.loc[6, "valid"]
    assert m.loc[3, "valid"] and m.loc[3, "value"] != 1.0321  # simulated outside the period
    assert m.loc[7, "valid"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("at,measurement,value\n1h,scada:vm_pu:nope,1.0\n", "row 1.measurement: got"),
        (f"at,measurement,value\n7min,{NAME},1.0\n", "row 1.at: got '7min'"),
        (f"at,measurement,value\n1h,{NAME},high\n", "row 1.value: expected numbers"),
        (f"at,measurement\n1h,{NAME}\n", "row 1.value: missing"),
    ],
)
def test_measurement_log_errors_are_one_line(tmp_path, text, needle):
    with pytest.raises(InputError) as err:
        prepare(scenario_from_dict(_data(tmp_path, text), source="s.yaml"))
    assert "\n" not in str(err.value) and needle in str(err.value) and "m.csv" in str(err.value)
