"""Real time: steps paced to the wall clock, their lateness measured, overruns handled.

::

    case33bw, 1 s steps at realtime.factor 0.05 (a step every 50 ms of wall time)
      every simulator's step ──► gridtwin.pacing (waits for due(t), times the call)
                                   ├─► timing.parquet: one row per simulator and step + "step"
                                   └─► kpis.json realtime: lateness p50/p99/max, overruns, steps
      tests/realtime_functions.py:SlowAt sleeps 0.2 s at chosen steps ──► overruns
        on_overrun warn: counted; skip: the function's late steps not called; stop: run ends

Wall-clock figures are checked for sanity only (ordered, non-negative, consistent
with the timing table), never against a threshold.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from gridtwin.scenario import load_scenario
from gridtwin.world import run_scenario
from tests.conftest import REPO, base_scenario

FACTOR = 0.05  # 1 s steps, 50 ms of wall time each
STEP_MS = 50.0
SLOW = str(REPO / "tests" / "realtime_functions.py") + ":SlowAt"


def _scenario(
    tmp_path: Path, *, steps: int = 30, realtime: Any = None, slow_at=(), sleep_s: float = 0.2
) -> Path:
    data = base_scenario()
    data["time"] = {**data["time"], "duration": f"{steps}s", "step": "1s"}
    if realtime is not None:
        data["realtime"] = realtime
    if slow_at:
        log = tmp_path / "calls.txt"
        data["functions"] = [
            {
                "use": SLOW,
                "name": "slow",
                "params": {"sleep_s": sleep_s, "at_s": list(slow_at), "log": str(log)},
            }
        ]
    path = tmp_path / "rt.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _run(path: Path, out: Path) -> dict[str, Any]:
    return run_scenario(load_scenario(path), out_dir=out).kpis


def _timing(run_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(run_dir / "timing.parquet")


def _check_consistent(kpis: dict[str, Any], timing: pd.DataFrame) -> pd.DataFrame:
    """The realtime KPIs agree with the step rows of the timing table; returns those rows."""
    rt = kpis["realtime"]
    steps = timing[timing["element"] == "step"].sort_values("sim_time_s")
    assert rt["steps"] == kpis["run"]["steps"]
    assert rt["step_ms"] == pytest.approx(STEP_MS)
    assert 0 <= rt["lateness_ms_p50"] <= rt["lateness_ms_p99"] <= rt["lateness_ms_max"]
    assert rt["lateness_ms_max"] == pytest.approx(steps["lateness_ms"].max(), abs=1e-6)
    assert rt["overruns"] == int((steps["lateness_ms"] > STEP_MS).sum())
    assert steps["wall_start_unix_ns"].is_monotonic_increasing
    assert (steps["lateness_ms"] >= 0).all()
    return steps


def test_every_step_is_timed_and_its_lateness_measured(tmp_path):
    kpis = _run(_scenario(tmp_path, realtime={"factor": FACTOR}), tmp_path / "run")
    timing = _timing(tmp_path / "run")
    steps = _check_consistent(kpis, timing)
    assert kpis["run"]["completed"] is True and kpis["realtime"]["steps"] == 30
    assert list(steps["sim_time_s"]) == list(range(30))
    per_sim = timing[timing["element"] != "step"]
    # an open-loop run steps the grid (which reads its own profiles) and the recorder only
    assert {"grid", "recorder"} <= set(per_sim["element"])
    assert (per_sim.groupby("element", observed=True).size() == 30).all()  # each steps each s
    assert (per_sim["compute_ms"] > 0).all() and not timing["skipped"].any()
    # paced: the run takes at least the schedule's length (29 steps of 50 ms after the first)
    wall = steps["wall_start_unix_ns"].iloc[-1] - steps["wall_start_unix_ns"].iloc[0]
    assert wall >= 29 * STEP_MS * 1e6 * 0.999


def test_timing_is_recorded_on_request_without_real_time(tmp_path):
    plain = _run(_scenario(tmp_path, steps=5), tmp_path / "plain")
    assert "realtime" not in plain and not (tmp_path / "plain" / "timing.parquet").exists()
    path = _scenario(tmp_path, steps=5)
    data = yaml.safe_load(path.read_text())
    data["recording"] = {"tables": ["grid", "bus", "timing"]}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    kpis = _run(path, tmp_path / "run")
    timing = _timing(tmp_path / "run")
    assert "realtime" not in kpis  # not paced: no lateness figures
    assert timing["lateness_ms"].isna().all()
    assert timing.groupby("element", observed=True).size().eq(5).all()
    assert (timing["compute_ms"] >= 0).all()


def test_a_slow_step_is_counted_as_an_overrun(tmp_path):
    path = _scenario(tmp_path, realtime={"factor": FACTOR}, slow_at=(10,))
    kpis = _run(path, tmp_path / "run")
    steps = _check_consistent(kpis, _timing(tmp_path / "run"))
    assert kpis["realtime"]["overruns"] >= 1
    assert steps.set_index("sim_time_s")["lateness_ms"][11] > STEP_MS  # 0.2 s slept at 10 s
    assert kpis["run"]["completed"] is True


def test_skip_drops_the_functions_late_steps_and_counts_them(tmp_path):
    path = _scenario(tmp_path, realtime={"factor": FACTOR, "on_overrun": "skip"}, slow_at=(10,))
    kpis = _run(path, tmp_path / "run")
    timing = _timing(tmp_path / "run")
    _check_consistent(kpis, timing)
    rt = kpis["realtime"]
    slow = timing[timing["element"] == "slow"].set_index("sim_time_s")
    skipped = set(slow.index[slow["skipped"]])
    called = {int(t) for t in (tmp_path / "calls.txt").read_text().split()}
    assert 11 in skipped and rt["skipped_steps"] == len(skipped) >= 1
    assert called == set(range(30)) - skipped  # a skipped step's work is really not done
    assert (slow.loc[sorted(skipped), "compute_ms"] == 0).all()
    assert kpis["run"]["completed"] is True and kpis["run"]["steps"] == 30  # the grid ran on


def test_stop_ends_the_run_in_order_with_kpis(tmp_path):
    # 200 ms steps and 0.6 s slept at 5 s: a loaded machine does not stop it before
    path = _scenario(
        tmp_path,
        steps=10,
        realtime={"factor": 0.2, "on_overrun": "stop"},
        slow_at=(5,),
        sleep_s=0.6,
    )
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gridtwin",
            "run",
            str(path),
            "-q",
            "--no-report",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    stopped = [x for x in proc.stderr.splitlines() if x.startswith("stopped: ")]
    assert len(stopped) == 1 and "on_overrun is stop" in stopped[0], proc.stderr
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["run"]["completed"] is False
    assert 1 <= kpis["run"]["steps"] < 10
    assert "on_overrun is stop" in kpis["realtime"]["stopped"]
    assert kpis["realtime"]["overruns"] == 1
    grid = pd.read_parquet(out / "grid.parquet")
    assert grid["sim_time_s"].nunique() == kpis["run"]["steps"]  # every recorded step flushed
    timing = _timing(out)
    assert set(grid["sim_time_s"]) <= set(timing[timing["element"] == "step"]["sim_time_s"])


def test_the_older_time_real_time_factor_still_paces(tmp_path):
    data = yaml.safe_load(_scenario(tmp_path, steps=5).read_text())
    data["time"]["real_time_factor"] = FACTOR
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    sc = load_scenario(path)
    assert sc.realtime is not None and sc.realtime.factor == FACTOR
    assert str(sc.realtime.on_overrun) == "warn"


@pytest.mark.parametrize(
    ("realtime", "args", "message"),
    [
        ({"factor": 0}, [], "realtime.factor: got 0; expected greater than 0"),
        ({"factor": ".inf"}, [], "realtime.factor: got inf; expected a finite number"),
        ({"on_overrun": "explode"}, [], "realtime.on_overrun: got 'explode'; expected 'warn'"),
        ({"factr": 1}, [], "realtime.factr: unknown key; did you mean 'factor'?"),
        (None, ["--real-time", "fast"], "--real-time: got 'fast'; expected a factor in (0, 1000]"),
        (None, ["--on-overrun", "skip"], "--on-overrun: needs real time"),
        ({"factor": 1}, ["--on-overrun", "later"], "--on-overrun: got 'later'; expected warn"),
    ],
)
def test_bad_realtime_values_give_one_line(tmp_path, realtime, args, message):
    path = _scenario(tmp_path, steps=5)
    if realtime is not None:
        text = path.read_text() + yaml.safe_dump({"realtime": realtime})
        path.write_text(text.replace("'.inf'", ".inf"), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "gridtwin", "run", str(path), "-q", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_timing_goes_to_influxdb_with_wall_clock_stamps(influx, tmp_path):
    from gridtwin.scenario import InfluxSpec
    from tests.influx_helpers import influx_count

    sc = load_scenario(_scenario(tmp_path, steps=10, realtime={"factor": FACTOR}))
    sc.recording.influx = InfluxSpec(url=influx.url, database="timing")
    before = time.time()
    result = run_scenario(sc, out_dir=tmp_path / "run")
    assert result.influx.complete
    rows = len(_timing(tmp_path / "run"))
    assert influx_count(influx, "timing", result.kpis["run"]["run_id"], "timing", None) == rows
    answer = influx.query(
        'SELECT "lateness_ms", "sim_time_s" FROM "timing" WHERE "element" = \'step\'', db="timing"
    )
    values = answer["results"][0]["series"][0]["values"]
    assert sorted(v[2] for v in values) == list(range(10))
    assert all(before - 1 <= v[0] <= time.time() + 1 for v in values)  # wall-clock stamps


def test_realtime_kpis_from_lateness():
    import numpy as np

    from gridtwin.report.realtime_kpis import realtime_kpis

    late = np.array([0.1, 0.2, 120.0, 0.3, 250.0])
    got = realtime_kpis(late, period_ms=100.0, on_overrun="skip", skipped_steps=2, steps=5)
    assert got["overruns"] == 2 and got["skipped_steps"] == 2 and got["steps"] == 5
    assert got["lateness_ms_p50"] == pytest.approx(0.3)
    assert got["lateness_ms_max"] == 250.0
    assert got["lateness_ms_p50"] <= got["lateness_ms_p99"] <= got["lateness_ms_max"]
    empty = realtime_kpis(np.array([]), period_ms=100.0, on_overrun="warn", steps=0)
    assert "lateness_ms_p50" not in empty and empty["overruns"] == 0  # absent, never 0
    assert "skipped_steps" not in empty
