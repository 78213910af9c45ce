"""Power flows solved ahead in one batch are the power flows solved step by step.

::

    profiles of the next steps ──► PgmEngine.solve_ahead ──► solve() per step
                                   (same state?  yes: the batch's row; no: solved as usual)
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.grid.pgm_engine import PgmEngine
from gridtwin.grid.physical import PROFILE_INPUTS
from gridtwin.grid.state import GridState
from gridtwin.scenario import load_scenario
from gridtwin.simulators import grid_sim
from gridtwin.world import prepare, run_scenario

ROOT = Path(__file__).resolve().parents[1]


def _set_row(state: GridState, profiles, k: int) -> None:
    for name in PROFILE_INPUTS:
        getattr(state, name)[:] = profiles.at(*name.split("_", 1), k)


def _assert_same(a, b) -> None:
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True), f.name


@pytest.fixture(scope="module")
def prepared():
    return prepare(load_scenario(ROOT / "scenarios" / "mv-rural-day.yaml"))


def test_results_solved_ahead_equal_those_solved_one_by_one(prepared) -> None:
    net, profiles = prepared.net, prepared.profiles
    alone, ahead = PgmEngine(net), PgmEngine(net)
    state, trial = GridState.from_net(net), GridState.from_net(net)
    rows = []
    for k in range(1, 13):
        _set_row(trial, profiles, k)
        rows.append(trial.injections())
        rows[-1] = type(rows[-1])(
            **{f.name: getattr(rows[-1], f.name).copy() for f in fields(rows[-1])}
        )
    _set_row(state, profiles, 0)
    ahead.solve(state)
    ahead.solve_ahead(state, rows)
    assert ahead.ahead_pending == 12
    for k in range(1, 13):
        _set_row(state, profiles, k)
        _assert_same(ahead.solve(state), alone.solve(state))
    assert ahead.ahead_pending == 0 and not ahead.ahead_missed


def test_a_state_other_than_assumed_is_solved_as_usual(prepared) -> None:
    net, profiles = prepared.net, prepared.profiles
    alone, ahead = PgmEngine(net), PgmEngine(net)
    state = GridState.from_net(net)
    _set_row(state, profiles, 0)
    ahead.solve(state)
    _set_row(state, profiles, 1)
    ahead.solve_ahead(state, [state.injections()] * 4)
    state.line_in_service[3] = False  # an outage the batch did not assume
    _assert_same(ahead.solve(state), alone.solve(state))
    assert ahead.ahead_missed and ahead.ahead_pending == 0
    state.load_p_mw[0] += 0.01  # and the engine goes on with its own model
    _assert_same(ahead.solve(state), alone.solve(state))


@pytest.mark.parametrize("name", ["mv-fault-temporary", "mv-rural-peak-shaving"])
def test_a_run_records_the_same_tables_with_and_without_solving_ahead(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events (a fault, its reclosing) and a function's commands: misses fall back exactly."""
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    with_ahead = run_scenario(scenario, out_dir=tmp_path / "ahead")
    monkeypatch.setattr(grid_sim, "AHEAD_STEPS", 0)
    plain = run_scenario(scenario, out_dir=tmp_path / "plain")
    tables = sorted(p.name for p in plain.run_dir.glob("*.parquet"))
    assert tables == sorted(p.name for p in with_ahead.run_dir.glob("*.parquet"))
    assert "bus.parquet" in tables
    for table in tables:
        a = pd.read_parquet(with_ahead.run_dir / table)
        b = pd.read_parquet(plain.run_dir / table)
        pd.testing.assert_frame_equal(a, b, check_exact=True)
