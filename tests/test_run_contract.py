"""The run-directory contract over every shipped scenario (short runs, in-process).

scenario (shortened, events inside) ──► run_scenario ──► run dir
    every README table present (empty with its schema when nothing happened),
    one dtype per column name across all tables and runs, a unique run_id.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO

BASE_TABLES = ("grid", "bus", "line", "trafo", "load", "sgen", "storage", "switch", "events")
SHIPPED = sorted(p.stem for p in (REPO / "scenarios").glob("*.yaml"))


def expected_tables(sc) -> set[str]:
    """The tables the README lists for this scenario's recording.tables and functions."""
    tables = {t for t in BASE_TABLES if t in sc.recording.tables} | {"events", "command"}
    if sc.measurements is not None:
        tables.add("measurement")
    if sc.estimation is not None:
        tables |= {"estimate_bus", "estimate_line", "estimation", "bad_data_removed"}
    if sc.reconfiguration is not None:
        tables |= {"reconfig", "reconfig_plans"}
    if sc.forecasting is not None:
        tables.add("forecast")
    if sc.mqtt is not None or any(f.cmd or f.connect for f in sc.functions):
        tables.add("command_rejected")
    vc = sc.voltage_control
    if vc is not None and (vc.local is not None or vc.central is not None):
        tables.add("control")
    return tables


def short_run(name: str, out: Path):
    """The scenario's first 2 hours (or fewer steps), events inside that window kept."""
    from gridtwin.scenario import load_scenario
    from gridtwin.world import run_scenario

    sc = load_scenario(REPO / "scenarios" / f"{name}.yaml")
    sc.time.duration = min(sc.time.duration, max(2 * 3600 // sc.time.step, 2) * sc.time.step)
    sc.events = [e for e in sc.events if _offset_s(sc, e.at) < sc.time.duration]
    sc.realtime, sc.time.real_time_factor = None, None  # as fast as it goes (test_realtime paces)
    return sc, run_scenario(sc, out_dir=out)


def _offset_s(sc, at) -> float:
    from gridtwin.timeparse import parse_duration_s

    if isinstance(at, int | float):
        return float(at)
    text = str(at)
    try:
        return float(parse_duration_s(text))
    except ValueError:
        from datetime import datetime

        return (datetime.fromisoformat(text) - sc.time.start).total_seconds()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple]:
    base = tmp_path_factory.mktemp("contract")
    out = {}
    for name in SHIPPED:
        try:
            out[name] = short_run(name, base / name)
        except Exception as exc:  # a scenario whose replayed log needs the full period
            out[name] = exc
    return out


@pytest.mark.parametrize("name", SHIPPED)
def test_every_listed_table_is_present(runs, name):
    got = runs[name]
    if isinstance(got, Exception):
        pytest.fail(f"{name}: short run failed: {got}")
    sc, result = got
    present = {p.name.removesuffix(".parquet") for p in result.run_dir.glob("*.parquet")}
    missing = expected_tables(sc) - present
    assert not missing, f"{name}: missing {sorted(missing)}"
    for table in present:
        frame = pd.read_parquet(result.run_dir / f"{table}.parquet")
        assert {"time", "sim_time_s"} <= set(frame.columns), (name, table)
    kpis = json.loads((result.run_dir / "kpis.json").read_text())
    assert kpis["run"]["run_id"].startswith(result.run_dir.name + "-")


def test_one_dtype_per_column_across_tables_and_runs(runs):
    dtypes: dict[str, set[str]] = defaultdict(set)
    where: dict[tuple[str, str], str] = {}
    for name, got in runs.items():
        if isinstance(got, Exception):
            continue
        for folder in got[1].run_dir.glob("*.parquet"):
            frame = pd.read_parquet(folder)
            for column, dtype in frame.dtypes.astype(str).items():
                dtypes[column].add(dtype)
                where[(column, dtype)] = f"{name}/{folder.name}"
    mixed = {
        column: {d: where[(column, d)] for d in found}
        for column, found in dtypes.items()
        if len(found) > 1
    }
    assert mixed == {}
    assert dtypes["time"] == {"datetime64[ms, UTC]"}
    assert dtypes["element"] == {"category"}


def test_run_ids_are_unique_even_for_the_same_out_name(tmp_path):
    from gridtwin.scenario import load_scenario
    from gridtwin.world import run_scenario

    sc = load_scenario(REPO / "scenarios" / "case33bw-outage.yaml")
    sc.time.duration = 2 * sc.time.step
    sc.events = []
    first = run_scenario(sc, out_dir=tmp_path / "same").kpis["run"]["run_id"]
    second = run_scenario(sc, out_dir=tmp_path / "same").kpis["run"]["run_id"]
    assert first != second and first.startswith("same-")


def test_a_loading_without_a_real_rating_is_na(runs, tmp_path):
    """case33bw's lines carry pandapower's placeholder rating: n/a and null, never 0.0 %."""
    import pandapower.networks as pn

    from gridtwin.grid.engine import UNRATED_KA
    from tests.test_cli import gridtwin

    assert (pn.case33bw().line.max_i_ka >= UNRATED_KA).all()  # no line has a real rating
    _, result = runs["case33bw-outage"]
    kpis = json.loads((result.run_dir / "kpis.json").read_text())
    assert kpis["grid"]["line_loading_max_percent"] is None
    assert kpis["grid"]["vm_min_pu"] > 0  # the other figures are there
    assert pd.read_parquet(result.run_dir / "line.parquet").loading_percent.isna().all()
    shown = gridtwin("show", str(result.run_dir))
    assert shown.returncode == 0, shown.stderr
    (row,) = [line for line in shown.stdout.splitlines() if "max line loading" in line]
    cells = [c.strip() for c in row.split("│")[1:-1]]
    assert cells == ["max line loading", "n/a", "%"]
    assert "0.0" not in row
    built = gridtwin("report", str(result.run_dir), "--out", str(tmp_path / "report.html"))
    assert built.returncode == 0, built.stderr
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<td>max line loading</td><td>n/a</td>" in report
