"""Reconfiguration speed in the loop, before and after, side by side; prints markdown tables.

Each measurement runs in a subprocess whose ``PYTHONPATH`` is a source tree:
``--before`` (e.g. a worktree of main before the warm start) and this tree,
one after the other for each item, so both see the same machine load.

1. In the loop: ``scenarios/mv-rural-all-functions.yaml`` (all five functions,
   a week, a plan every 6 h over 24 hourly periods, 1000 evaluations) and
   ``scenarios/mv-reconfiguration.yaml``, run whole by ``run_scenario``: the
   per-plan wall time from ``reconfig_plans.parquet`` (``compute_ms``: the
   planning, the search and the hold check) as median and p95 over the plans
   that searched, the power flows per plan, and the ``reconfig`` KPIs (loss
   reduction against the held configuration, expected ENS).
2. case33bw from scratch (``Problem.from_net`` and ``optimize`` with the
   library defaults, losses objective, a new problem each run): wall time
   (median of runs), losses and open lines.

Run: ``python bench/bench_reconfig_speed.py --before /path/to/old/tree [--runs 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]


def _loop(scenario: str) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from gridtwin.scenario import load_scenario
    from gridtwin.world import run_scenario

    sc = load_scenario(Path(scenario))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = run_scenario(sc, out_dir=tmp)
        wall = time.perf_counter() - t0
        plans = pd.read_parquet(Path(result.run_dir) / "reconfig_plans.parquet")
    searched = plans[plans["power_flows"] > 0]
    ms = searched["compute_ms"].to_numpy()
    return {
        "wall_s": wall,
        "plans": len(searched),
        "median_ms": float(np.median(ms)),
        "p95_ms": float(np.percentile(ms, 95)),
        "total_s": float(ms.sum() / 1e3),
        "flows_per_plan": float(searched["power_flows"].mean()),
        "statuses": searched["status"].value_counts().to_dict(),
        "kpis": result.kpis["reconfig"],
    }


def _case33(runs: int) -> dict[str, Any]:
    import pandapower.networks as pn

    from gridtwin.controllers.reconfig import Problem, Weights, optimize

    times, sol = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        problem = Problem.from_net(pn.case33bw(), all_lines_switchable=True)
        sol = optimize(problem, weights=Weights.for_objective("losses"))
        times.append(time.perf_counter() - t0)
    assert sol is not None
    return {
        "median_s": statistics.median(times),
        "max_s": max(times),
        "losses_kw": sol.assessment.losses_mwh * 1e3,
        "open_1based": [i + 1 for i in sol.open_lines()],
        "status": str(sol.status),
        "power_flows": sol.power_flows,
    }


def _worker(args: argparse.Namespace) -> None:
    warnings.simplefilter("ignore")
    if args.worker == "loop":
        out = _loop(args.scenario)
    else:
        out = _case33(args.runs)
    print("RESULT " + json.dumps(out, default=float))


def _run(tree: Path, *argv: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *argv],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def _loadavg() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, help="source tree to compare with")
    parser.add_argument("--runs", type=int, default=5, help="case33bw runs")
    parser.add_argument("--worker", choices=["loop", "case33"], help=argparse.SUPPRESS)
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args)
        return
    trees = ([("before", args.before.resolve())] if args.before else []) + [("after", HERE)]
    print(f"load average at start: {_loadavg()}\n")
    print("### In the loop: per-plan wall time (compute_ms of the plans that searched)\n")
    print(
        "| scenario | tree | plans | median [ms] | p95 [ms] | all plans [s] | power flows "
        "per plan | run wall [s] | loss reduction [%] | losses / static [MWh] "
        "| EENS after [MWh/a] | load avg |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |")
    for name in ("mv-rural-all-functions", "mv-reconfiguration"):
        for label, tree in trees:
            r = _run(tree, "--worker", "loop", "--scenario", f"scenarios/{name}.yaml")
            k = r["kpis"]
            print(
                f"| {name} | {label} | {r['plans']} | {r['median_ms']:.0f} | {r['p95_ms']:.0f} "
                f"| {r['total_s']:.2f} | {r['flows_per_plan']:.0f} | {r['wall_s']:.1f} "
                f"| {100 * k['loss_reduction_share']:.2f} "
                f"| {k['losses_mwh']:.3f} / {k['losses_mwh_static']:.3f} "
                f"| {k['expected_ens_mwh_per_year_after']:.3f} | {_loadavg()} |",
                flush=True,
            )
    print(
        f"\n### case33bw from scratch (Problem.from_net + optimize, defaults), {args.runs} runs\n"
    )
    print(
        "| tree | median [s] | max [s] | losses [kW] | open lines (1-based) | status "
        "| power flows | load avg |"
    )
    print("| --- | ---: | ---: | ---: | --- | --- | ---: | --- |")
    for label, tree in trees:
        r = _run(tree, "--worker", "case33", "--runs", str(args.runs))
        print(
            f"| {label} | {r['median_s']:.3f} | {r['max_s']:.3f} | {r['losses_kw']:.2f} "
            f"| {', '.join(map(str, r['open_1based']))} | {r['status']} | {r['power_flows']} "
            f"| {_loadavg()} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
