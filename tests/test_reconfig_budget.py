"""The search's budget is an evaluation count: the same seed, the same plan, whatever the load.

A wall-clock cap is only a safety stop, and the status names the limit that
ended the search: ``budget`` (the evaluation count), ``time_limit`` (the
clock), ``local`` (the search ended by itself).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandapower.networks as pn
import pandas as pd
import pytest

from gridtwin.controllers.reconfig import (
    DEFAULT_MAX_EVALUATIONS,
    Periods,
    Problem,
    Solution,
    Status,
    Weights,
    optimize,
)
from gridtwin.scenario import scenario_from_dict
from gridtwin.world import run_scenario
from tests.conftest import base_scenario
from tests.test_cli import gridtwin
from tests.test_reconfig_run import CASE33_LOOP

LOSSES = Weights.for_objective("losses")
BUSY = "while True:\n    pass\n"


@contextmanager
def machine_under_load() -> Iterator[None]:
    """A busy process beside this one and a busy thread inside it (contending for the GIL)."""
    proc = subprocess.Popen([sys.executable, "-c", BUSY])
    stop = threading.Event()

    def spin() -> None:
        x = 0
        while not stop.is_set():
            x += 1

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        proc.kill()
        proc.wait()


def _same(a: Solution, b: Solution) -> None:
    assert a.status == b.status
    np.testing.assert_array_equal(a.plan, b.plan)
    assert a.objective == b.objective
    assert a.power_flows == b.power_flows


def _quiet_and_loaded(run: Callable[[], Solution]) -> tuple[Solution, Solution]:
    quiet = run()
    with machine_under_load():
        loaded = run()
    return quiet, loaded


@pytest.fixture(scope="module")
def case33() -> Problem:
    return Problem.from_net(pn.case33bw(), all_lines_switchable=True)


@pytest.fixture(scope="module")
def mv_rural() -> Problem:
    import simbench

    return Problem.from_net(simbench.get_simbench_net("1-MV-rural--0-sw"))


def test_default_is_an_evaluation_budget_without_a_clock(case33):
    sol = optimize(case33, weights=LOSSES)
    # the default budget lets the search end by itself on case33bw: the literature optimum
    assert sol.status == Status.LOCAL
    assert sol.open_lines() == [6, 8, 13, 31, 36]
    assert sol.power_flows < DEFAULT_MAX_EVALUATIONS


@pytest.mark.parametrize("budget", [300, None])
def test_case33bw_same_plan_under_load(case33, budget):
    kwargs: dict[str, Any] = {} if budget is None else {"max_evaluations": budget}
    quiet, loaded = _quiet_and_loaded(lambda: optimize(case33, weights=LOSSES, seed=5, **kwargs))
    _same(quiet, loaded)
    assert quiet.status == (Status.BUDGET if budget else Status.LOCAL)
    if budget:
        # the budget is checked between neighbourhood batches: it may overrun by one batch
        assert budget <= quiet.power_flows < budget + case33.m * case33.n_loops


def test_case33bw_multi_period_same_plan_under_load(case33):
    base = Periods.from_net(case33.net, n=3)
    f = np.array([[1.0], [2.5], [0.4]])
    periods = Periods(
        base.load_p_mw * f, base.load_q_mvar * f, base.sgen_p_mw, base.sgen_q_mvar, base.duration_h
    )
    weights = Weights.for_objective("losses", switching_cost=1.0)
    quiet, loaded = _quiet_and_loaded(
        lambda: optimize(case33, periods, weights=weights, seed=2, max_evaluations=900)
    )
    _same(quiet, loaded)
    assert quiet.status == Status.BUDGET


def test_simbench_mv_same_plan_under_load(mv_rural):
    quiet, loaded = _quiet_and_loaded(
        lambda: optimize(mv_rural, weights=LOSSES, seed=1, max_evaluations=1500)
    )
    _same(quiet, loaded)
    assert quiet.status == Status.BUDGET
    # a clock cap that does not bind changes nothing
    capped = optimize(mv_rural, weights=LOSSES, seed=1, max_evaluations=1500, time_limit_s=3600)
    _same(quiet, capped)


def test_simbench_mv_search_ends_by_itself(mv_rural):
    sol = optimize(mv_rural, weights=LOSSES, seed=0)
    assert sol.status == Status.LOCAL
    again = optimize(mv_rural, weights=LOSSES, seed=0, max_evaluations=None)
    _same(sol, again)


def test_tiny_clock_cap_binds_and_is_reported(mv_rural):
    sol = optimize(mv_rural, weights=LOSSES, time_limit_s=1e-6)
    assert sol.status == Status.TIME_LIMIT
    assert sol.to_dict()["status"] == "time_limit"
    assert sol.assessment.feasible  # the (repaired) start is still a valid plan


def test_limits_must_be_positive(case33):
    with pytest.raises(ValueError, match="max_evaluations"):
        optimize(case33, max_evaluations=0)
    with pytest.raises(ValueError, match="time_limit_s"):
        optimize(case33, time_limit_s=0)


def test_cli_budget_status_and_clock_warning(tmp_path):
    out = tmp_path / "sol.json"
    r = gridtwin(
        "reconfigure", "case33bw", "--all-lines-switchable", "--max-evaluations", "300",
        "--out", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "best found within the evaluation budget (--max-evaluations)" in r.stdout
    assert "warning" not in r.stderr
    assert json.loads(out.read_text())["status"] == "budget"
    r = gridtwin("reconfigure", "case33bw", "--all-lines-switchable", "--time-limit", "1e-6")
    assert r.returncode == 0, r.stderr
    assert "wall-clock cap (--time-limit) stopped the search" in r.stdout
    warnings = [x for x in r.stderr.splitlines() if x.startswith("warning:")]
    assert len(warnings) == 1 and "depends on the machine's load" in warnings[0]


@pytest.mark.parametrize(
    ("args", "field"),
    [(["--max-evaluations", "0"], "--max-evaluations"), (["--time-limit", "-1"], "--time-limit")],
)
def test_cli_bad_limits(args, field):
    r = gridtwin("reconfigure", "case33bw", "--all-lines-switchable", *args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}")


def test_cli_default_budget_matches_the_library():
    import inspect

    from gridtwin.cli.commands.reconfigure import reconfigure

    params = inspect.signature(reconfigure).parameters
    assert params["max_evaluations"].default == DEFAULT_MAX_EVALUATIONS
    assert params["time_limit"].default is None


def test_loop_reports_plans_the_clock_cut_short(tmp_path):
    data = json.loads(json.dumps(CASE33_LOOP))
    data["time"]["duration"] = "30min"
    data["events"] = []
    data["reconfiguration"]["time_limit_s"] = 1e-6
    run = run_scenario(scenario_from_dict(base_scenario(**data)), out_dir=tmp_path)
    plans = pd.read_parquet(run.run_dir / "reconfig_plans.parquet")
    assert len(plans) == 1
    status, reason = plans.loc[0, "status"], plans.loc[0, "reason"]
    assert status == "time_limit" or (status == "held" and "wall-clock cap" in reason)
    rc = json.loads((run.run_dir / "kpis.json").read_text())["reconfig"]
    assert rc["plans"] == rc["plans_time_limited"] == 1
