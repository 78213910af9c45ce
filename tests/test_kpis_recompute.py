"""kpis.json is recomputable from the run directory: the tables replayed give the same figures."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from gridtwin.report.recompute import recompute_kpis
from gridtwin.scenario import load_scenario, scenario_from_dict
from gridtwin.world import run_scenario

ROOT = Path(__file__).parents[1]


def _short(name: str, duration: str) -> Any:
    path = ROOT / "scenarios" / f"{name}.yaml"
    data = load_scenario(path).model_dump(mode="json")
    data["time"]["duration"] = duration
    return scenario_from_dict(data, source=str(path))


def _same(a: Any, b: Any, where: str = "") -> None:
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == b or (math.isnan(a) and math.isnan(b)), (where, a, b)
    else:
        assert a == b, (where, a, b)


@pytest.mark.parametrize(
    ("name", "duration", "sections"),
    [
        ("high-pv-voltage-central", "1d", {"grid", "voltage", "se"}),
        ("mv-fault-flisr", "1d", {"grid", "reliability", "flisr"}),
        ("mv-rural-forecast", "2d", {"forecast"}),  # both cadences: intraday and day-ahead
    ],
)
def test_recomputed_kpis_equal_the_runs(name: str, duration: str, sections: set, tmp_path: Path):
    result = run_scenario(_short(name, duration), out_dir=tmp_path / "run")
    recorded = json.loads((result.run_dir / "kpis.json").read_text())
    assert sections <= set(recorded)
    again = recompute_kpis(result.run_dir)
    _same(again, recorded)
    if "reliability" in sections:
        assert recorded["reliability"]["ens_mwh"] > 0  # the fault cut customers off
    if "forecast" in sections:
        assert {"intraday", "day_ahead"} <= set(recorded["forecast"])


@pytest.fixture(scope="module")
def all_functions_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """36 h of the all-functions scenario with its fault (32 h) and no repair: estimation,
    forecasting, central voltage control, reconfiguration (switching) and FLISR."""
    path = ROOT / "scenarios" / "mv-rural-all-functions.yaml"
    data = load_scenario(path).model_dump(mode="json")
    data["time"]["duration"] = "36h"
    data["events"] = [e for e in data["events"] if e["type"] == "line_fault"]
    out = tmp_path_factory.mktemp("all-functions") / "run"
    run_scenario(scenario_from_dict(data, source=str(path)), out_dir=out)
    return out


def test_forecast_reconfig_and_flisr_recompute_equal(all_functions_run: Path) -> None:
    recorded = json.loads((all_functions_run / "kpis.json").read_text())
    assert {"forecast", "reconfig", "flisr", "se", "voltage", "reliability"} <= set(recorded)
    assert recorded["reconfig"]["switch_operations"] > 0  # the controller switched
    assert recorded["flisr"]["incidents"] == 1
    assert recorded["forecast"]["intraday"]["issues"] > 0
    _same(recompute_kpis(all_functions_run), recorded)


def test_cli_kpis_says_equal_with_every_function(all_functions_run: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "gridtwin", "kpis", str(all_functions_run)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "recomputed from the tables: equal to kpis.json" in proc.stderr
    assert json.loads(proc.stdout)["flisr"]["faults_located_correctly"] == 1


def test_function_sections_come_from_the_tables(all_functions_run: Path, tmp_path: Path) -> None:
    """Change the recorded incidents, plans and issues: the recomputed figures follow."""
    import shutil

    import pandas as pd

    run = tmp_path / "copy"
    shutil.copytree(all_functions_run, run)
    recorded = json.loads((run / "kpis.json").read_text())

    def edit(table: str, change: Any) -> None:
        for part in sorted((run / f"{table}.parquet").glob("part-*.parquet")):
            frame = pd.read_parquet(part)
            change(frame)
            frame.to_parquet(part)

    edit("flisr_incidents", lambda f: f.__setitem__("lines", "[]"))
    edit("reconfig_plans", lambda f: f.__setitem__("status", "infeasible"))
    edit("forecast_issues", lambda f: f.__setitem__("p50_mw", f["actual_mw"]))
    again = recompute_kpis(run)
    assert recorded["flisr"]["faults_located_correctly"] == 1
    assert again["flisr"]["faults_located_correctly"] == 0
    assert again["reconfig"]["plans"] == 0
    assert again["reconfig"]["plans_without_result"] == sum(
        recorded["reconfig"][k] for k in ("plans", "plans_suspended", "plans_without_result")
    )
    assert recorded["forecast"]["intraday"]["load_mae_mw"] > 0
    assert (
        again["forecast"]["intraday"]["load_mae_mw"]
        < recorded["forecast"]["intraday"]["load_mae_mw"]
    )


def test_recompute_sees_a_changed_table(tmp_path: Path) -> None:
    """The figures come from the tables: change the bus table and the voltage extremes move."""
    import pandas as pd

    result = run_scenario(_short("mv-rural-day", "6h"), out_dir=tmp_path / "run")
    folder = result.run_dir / "bus.parquet"
    parts = sorted(folder.glob("part-*.parquet"))
    bus = pd.read_parquet(parts[0])
    bus.loc[0, "vm_pu"] = 1.2
    bus.to_parquet(parts[0])
    again = recompute_kpis(result.run_dir)
    assert again["grid"]["vm_max_pu"] == 1.2
    assert result.kpis["grid"]["vm_max_pu"] < 1.2


def test_cli_kpis_says_equal(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = run_scenario(_short("mv-rural-day", "6h"), out_dir=tmp_path / "run")
    proc = subprocess.run(
        [sys.executable, "-m", "gridtwin", "kpis", str(result.run_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["grid"] == result.kpis["grid"]
    assert "equal to kpis.json" in proc.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "gridtwin", "kpis", str(tmp_path)], capture_output=True, text=True
    )
    assert missing.returncode == 2
    assert "no kpis.json here" in missing.stderr
    assert "Traceback" not in missing.stderr
