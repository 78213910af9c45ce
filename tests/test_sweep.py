"""Sweeps on a real Dask LocalCluster of worker processes (tiny runs: case33bw, 4 steps).

::

    sweep file ──► gridtwin.sweep(client=LocalCluster(2 processes)) ──► sweep.parquet, sweep.html
    gridtwin sweep (subprocess) ──► killed midway ──► started again: finished variants kept
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import gridtwin
from gridtwin.cli import app
from tests.conftest import REPO

BASE = {
    "name": "tiny",
    "time": {"start": "2016-06-21T00:00:00+01:00", "duration": "1h", "step": "15min"},
    "grid": {"pandapower": "case33bw"},
    "events": [{"at": "15min", "type": "line_fault", "target": 3, "permanent": 1}],
}
LOAD_SCALES = [1.0, 1.5]
TARGETS = [3, 7, 999]  # 999: no such line, found only when the run checks its events


def write(folder: Path, sweep: dict, base: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "base.yaml").write_text(yaml.safe_dump(base or BASE), encoding="utf-8")
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path


def small_sweep(folder: Path) -> Path:
    return write(
        folder,
        {
            "base": "base.yaml",
            "axes": {"profiles.load_scale": LOAD_SCALES, "events.0.target": TARGETS},
            "kpis": ["grid.losses_mwh", "reliability.ens_mwh", "grid.vm_min_pu"],
        },
    )


@pytest.fixture(scope="module")
def clusters():
    from distributed import Client, LocalCluster

    made = {}
    for n in (1, 2):
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        made[n] = (cluster, Client(cluster))
    yield {n: client for n, (_, client) in made.items()}
    for cluster, client in made.values():
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def two_worker_table(clusters, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep2")
    table = gridtwin.sweep(small_sweep(folder), client=clusters[2], out_dir=folder / "out")
    return folder / "out", table


def test_one_row_per_variant_with_axes_kpis_and_failures(two_worker_table):
    out, table = two_worker_table
    assert len(table) == len(LOAD_SCALES) * len(TARGETS)
    assert table["variant"].is_unique and list(table["variant"]) == sorted(table["variant"])
    pairs = set(zip(table["profiles.load_scale"], table["events.0.target"], strict=True))
    assert pairs == {(s, t) for s in LOAD_SCALES for t in TARGETS}
    for kpi in ("grid.losses_mwh", "reliability.ens_mwh", "grid.vm_min_pu"):
        assert kpi in table.columns
    ok = table[table["events.0.target"] != 999]
    bad = table[table["events.0.target"] == 999]
    assert (ok["status"] == "ok").all() and (ok["error"] == "").all()
    assert ok["grid.losses_mwh"].gt(0).all() and ok["grid.vm_min_pu"].between(0.8, 1.1).all()
    assert (bad["status"] == "failed").all() and bad["grid.losses_mwh"].isna().all()
    for error in bad["error"]:
        assert "\n" not in error and "events[0].target" in error and "999" in error
    # more load: more losses, for the same fault
    by = ok.set_index(["events.0.target", "profiles.load_scale"])["grid.losses_mwh"]
    assert by[(3, 1.5)] > by[(3, 1.0)] and by[(7, 1.5)] > by[(7, 1.0)]
    on_disk = pd.read_parquet(out / "sweep.parquet")
    pd.testing.assert_frame_equal(on_disk, table, check_like=False)
    for run_dir in ok["run_dir"]:
        kpis = json.loads((out / run_dir / "kpis.json").read_text())
        assert kpis["run"]["completed"] is True
    page = (out / "sweep.html").read_text(encoding="utf-8")
    worst = ok.sort_values("grid.losses_mwh", ascending=False)["run_dir"].iloc[0]
    assert f'href="{worst}/report.html"' in page
    assert (out / worst / "report.html").is_file()
    assert "Distributions" in page and "Axes against KPIs" in page


def test_one_and_two_workers_give_the_same_table(two_worker_table, clusters, tmp_path):
    _, table2 = two_worker_table
    address = clusters[1].scheduler.address  # as --scheduler: an existing cluster, by address
    table1 = gridtwin.sweep(small_sweep(tmp_path), scheduler=address, out_dir=tmp_path / "out")
    pd.testing.assert_frame_equal(table1.drop(columns="wall_s"), table2.drop(columns="wall_s"))
    assert table1["wall_s"].gt(0).all()


def _finished(out: Path) -> dict[str, tuple[int, str]]:
    found = {}
    for meta in (out / "runs").glob("*/sweep_variant.json"):
        kpis = json.loads((meta.parent / "kpis.json").read_text())
        found[meta.parent.name] = (meta.stat().st_mtime_ns, kpis["run"]["run_id"])
    return found


def test_killed_sweep_resumes_without_rerunning_finished_variants(tmp_path):
    path = write(
        tmp_path,
        {"base": "base.yaml", "seed": {"count": 10}, "kpis": ["grid.losses_mwh"]},
        {**BASE, "events": []},
    )
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "gridtwin",
        "sweep",
        str(path),
        "--workers",
        "2",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while len(_finished(out)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the client, its cluster and workers, at once
    proc.wait(timeout=30)
    before = _finished(out)
    assert 3 <= len(before) < 10, "the sweep must be killed midway"
    assert not (out / "sweep.parquet").exists()
    again = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"resuming: {len(before)} of 10 variants finished before" in again.stdout
    after = _finished(out)
    assert len(after) == 10
    for variant, stamp in before.items():
        assert after[variant] == stamp, f"{variant} was run again"
    table = pd.read_parquet(out / "sweep.parquet")
    assert len(table) == 10 and (table["status"] == "ok").all()
    assert sorted(table["seed"]) == list(range(10))
    assert f"({10 - len(before)} run now, {len(before)} from before)" in again.stdout


MALFORMED = [
    ({"base": "base.yaml", "axes": {"profiles.sgen_scal": [1.0]}}, "axes.profiles.sgen_scal[0]"),
    (
        {"base": "base.yaml", "axes": {"profiles.sgen_scale": [1.0, -2]}},
        "axes.profiles.sgen_scale[1]",
    ),
    ({"base": "base.yaml", "zip": {"seed": [1, 2], "profiles.load_scale": [1.0]}}, "zip"),
    ({"base": "base.yaml", "axes": {"time.step": ["7min"]}}, "axes.time.step[0]"),
    ({"base": "missing.yaml"}, "base"),
    ({"base": "base.yaml", "seed": {"count": 0}}, "seed"),
    ({"base": "base.yaml", "axis": {"seed": [1]}}, "axis"),
    (
        {"base": "base.yaml", "generate": {"faults": {"lines": ["no such"]}}},
        "generate.faults.lines",
    ),
    (
        {"base": "base.yaml", "generate": {"random": {"count": 2, "draws": {"seed": {}}}}},
        "generate",
    ),
]


@pytest.mark.parametrize(("sweep", "field"), MALFORMED)
def test_malformed_sweep_file_is_one_line_exit_2(tmp_path, sweep, field):
    path = write(tmp_path, sweep)
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: {field}"), lines
    assert not (tmp_path / "out" / "runs").exists()


def test_malformed_sweep_from_the_command_line(tmp_path):
    path = write(tmp_path, {"base": "base.yaml", "axes": {"flisr.remot": ["all"]}})
    result = subprocess.run(
        [sys.executable, "-m", "gridtwin", "sweep", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert f"{path}: axes.flisr.remot[0]:" in result.stderr and "unknown key" in result.stderr


def test_shipped_sweeps_are_valid():
    from gridtwin.grid.sources import load_net
    from gridtwin.grid.topology import element_names
    from gridtwin.scenario import load_scenario
    from gridtwin.sweeps.plan import make_plan

    folder = REPO / "scenarios" / "sweeps"
    plans = {p.stem: make_plan(p) for p in sorted(folder.glob("*.yaml"))}
    n1 = plans["n1-flisr"]
    lines = element_names(
        load_net(load_scenario(REPO / "scenarios" / n1.spec.base[3:]).grid), "line"
    )
    faulted = {(v.columns["flisr"], v.columns["fault.line"]) for v in n1.variants}
    assert faulted == {(f, line) for f in ("on", "off") for line in lines}  # every line, both
    assert all(j.data["time"]["duration"] == "1d" for j in n1.jobs)
    seeds = sorted(j.data["seed"] for j in plans["estimation-bad-data"].jobs)
    assert seeds == list(range(100))
    vc = plans["voltage-control-weeks"]
    assert {v.columns["voltage_control"] for v in vc.variants} == {
        "none",
        "oltc",
        "local",
        "central",
    }
    assert len({v.columns["week"] for v in vc.variants}) >= 4
    assert all(j.data["time"]["duration"] == "1d" for j in vc.jobs)


def test_compose_has_a_dask_scheduler_and_workers_with_gridtwin():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    scheduler, worker = services["dask-scheduler"], services["dask-worker"]
    assert "dask" in " ".join(scheduler["command"]) and "scheduler" in scheduler["command"]
    assert "tcp://dask-scheduler:8786" in worker["command"]
    assert "127.0.0.1:8786:8786" in scheduler["ports"]
    dockerfile = REPO / worker["build"]["context"] / worker["build"]["dockerfile"]
    text = dockerfile.read_text(encoding="utf-8")
    assert "pip install" in text and "distributed" in text
    assert scheduler["build"] == worker["build"]  # the same dask on both
    assert any(v.split(":")[0] == "${PWD}" for v in worker["volumes"])  # run dirs at the same path
