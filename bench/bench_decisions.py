"""Closed-loop speed per decision: voltage control, estimation, forecasting, before and after.

Usage::

    python bench/bench_decisions.py --before /path/to/reference/worktree [--until 7d] [--parallel]

Runs ``scenarios/mv-rural-all-functions.yaml`` (MV-rural, all five
functions, a spring week) twice in one invocation, each in its own Python
process: once with the reference checkout's source (``--before``, e.g. a
worktree of the commit before the speed-up) and once with this checkout's.
Each process wraps the three functions' entry points with a wall clock
(``CentralVoltageControl.decide``, ``WlsEstimator.estimate``, the
``Forecaster``'s construction, which trains it, ``step`` and ``finish``) and
prints, side by side (``--parallel`` runs the two processes at the same
time, so that other jobs on a shared machine slow both alike): per-decision
median, p95 and mean [ms], the forecaster's time per step amortized over the
week including its trainings,
and the functions' quality KPIs of the same runs (false alarms, bad data
injected/detected/identified, violation minutes, forecast skill), which must
not get worse.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SCENARIO = "scenarios/mv-rural-all-functions.yaml"


def _timed(cls: Any, name: str, sink: list[float], cpu: list[float]) -> None:
    """Wrap ``cls.name`` so that every call appends its wall time to ``sink`` and its
    process CPU time to ``cpu`` [ms] (the functions run single-threaded, so CPU time is
    what a quiet machine's wall time would be, less the cache effects of other jobs)."""
    inner = getattr(cls, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            sink.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)

    setattr(cls, name, wrapper)


def child(out: Path, until: str | None) -> None:
    """One run of the scenario with the functions timed; results as JSON to ``out``."""
    from gridtwin.controllers.estimation.wls import WlsEstimator
    from gridtwin.controllers.forecasting.forecaster import Forecaster
    from gridtwin.controllers.voltage.central import CentralVoltageControl
    from gridtwin.scenario import load_scenario
    from gridtwin.timeparse import parse_duration_s
    from gridtwin.world import run_scenario

    sys.path.insert(0, str(REPO / "bench"))
    from bench_all_functions import figures

    keys = ("vc", "se", "fc_init", "fc_step", "fc_end")
    ms: dict[str, list[float]] = {k: [] for k in keys}
    cpu: dict[str, list[float]] = {k: [] for k in keys}
    for cls, name, key in (
        (CentralVoltageControl, "decide", "vc"),
        (WlsEstimator, "estimate", "se"),
        (Forecaster, "__init__", "fc_init"),
        (Forecaster, "step", "fc_step"),
        (Forecaster, "finish", "fc_end"),
    ):
        _timed(cls, name, ms[key], cpu[key])
    sc = load_scenario(Path(SCENARIO))
    if until:  # a shorter run keeps the events inside it (offsets only)
        sc.time.duration = parse_duration_s(until)
        sc.events = [
            e
            for e in sc.events
            if not isinstance(e.at, str) or parse_duration_s(e.at) < sc.time.duration
        ]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = run_scenario(sc, out_dir=Path(tmp) / "run")
        wall = time.perf_counter() - t0
        fig = figures(result, Path(tmp) / "run")
    fc = result.kpis.get("forecast", {})
    fig["forecast_intraday"] = fc.get("intraday", {})
    fig["train_s"] = fc.get("train_s")
    fig.pop("calibration", None)
    out.write_text(json.dumps({"ms": ms, "cpu": cpu, "wall_s": wall, "figures": fig}, default=str))


def _stats(x: list[float]) -> tuple[float, float, float]:
    import numpy as np

    a = np.asarray(x, dtype=float)
    if not a.size:
        return float("nan"), float("nan"), float("nan")
    return float(np.median(a)), float(np.percentile(a, 95)), float(a.mean())


def _side(tree: Path, until: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        env = {**os.environ, "PYTHONPATH": str(tree / "src")}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(out)]
        if until:
            cmd += ["--until", until]
        subprocess.run(cmd, cwd=tree, env=env, check=True)
        return json.loads(out.read_text())


def _print(before: dict[str, Any], after: dict[str, Any]) -> None:
    for clock in ("ms", "cpu"):
        print(f"\n{'wall' if clock == 'ms' else 'process CPU'} time:\n")
        _print_times(before, after, clock)
    _print_quality(before, after)


def _print_times(before: dict[str, Any], after: dict[str, Any], clock: str) -> None:
    print("| function | before p50 / p95 / mean [ms] | after p50 / p95 / mean [ms] | calls |")
    print("| --- | ---: | ---: | ---: |")
    names = {"vc": "central voltage control, per decision", "se": "state estimation, per step"}
    for key, label in names.items():
        b, a = _stats(before[clock][key]), _stats(after[clock][key])
        print(
            f"| {label} | {b[0]:.2f} / {b[1]:.2f} / {b[2]:.2f} | "
            f"{a[0]:.2f} / {a[1]:.2f} / {a[2]:.2f} | {len(after[clock][key])} |"
        )
    rows = []
    for side in (before, after):
        m = side[clock]
        n = max(len(m["fc_step"]), 1)
        total = sum(m["fc_init"]) + sum(m["fc_step"]) + sum(m["fc_end"])
        rows.append(
            (total / n, _stats(m["fc_step"]), sum(m["fc_init"]), side["figures"]["train_s"])
        )
    (bt, bs, bi, btr), (at, as_, ai, atr) = rows
    print(
        f"| forecasting, per step amortized (construction with first training + steps) | "
        f"{bt:.2f} | {at:.2f} | {len(after['ms']['fc_step'])} |"
    )
    print(
        f"| forecasting, one step (p50 / p95) | {bs[0]:.2f} / {bs[1]:.2f} | "
        f"{as_[0]:.2f} / {as_[1]:.2f} | |"
    )
    print(
        f"| forecasting, construction incl. first training [s] | {bi / 1e3:.2f} | "
        f"{ai / 1e3:.2f} | |"
    )
    print(f"| forecasting, trainings (wall, its own clock) [s] | {btr} | {atr} | |")
    print(f"| whole week, wall [s] | {before['wall_s']:.0f} | {after['wall_s']:.0f} | |")


def _print_quality(before: dict[str, Any], after: dict[str, Any]) -> None:
    print("\n| quality KPI | before | after |")
    print("| --- | ---: | ---: |")
    bf, af = before["figures"], after["figures"]
    for key, label in (
        ("false_alarms", "estimator false alarms"),
        ("clean", "clean steps"),
        ("bad", "bad data injected/detected/identified"),
        ("vm_mae", "Vm MAE [pu]"),
        ("viol_min", "violation [bus-min]"),
        ("curtailed_mwh", "curtailed [MWh]"),
        ("losses_mwh", "losses [MWh]"),
        ("rc_reduction", "reconfiguration loss reduction"),
        ("flisr", "FLISR located/restored"),
    ):
        print(f"| {label} | {bf.get(key)} | {af.get(key)} |")
    for key in (
        "load_skill_vs_seasonal_naive",
        "pv_skill_vs_seasonal_naive",
        "picp80",
        "pinball_loss",
    ):
        print(
            f"| forecast intraday {key} | {bf['forecast_intraday'].get(key)} | "
            f"{af['forecast_intraday'].get(key)} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="checkout (worktree) of the reference commit")
    parser.add_argument("--until", default=None, help="shorten the runs, e.g. 1d")
    parser.add_argument(
        "--parallel", action="store_true", help="run both sides at the same time (shared CPU)"
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), args.until)
        return
    if not args.before:
        raise SystemExit("--before: a checkout of the reference commit is needed")
    print(
        f"# per-decision benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start, "
        f"Python {platform.python_version()}\n"
    )
    if args.parallel:  # both sides at once: the machine's other load hits them alike
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as pool:
            jobs = [pool.submit(_side, t, args.until) for t in (Path(args.before).resolve(), REPO)]
            before, after = (j.result() for j in jobs)
    else:
        before = _side(Path(args.before).resolve(), args.until)
        after = _side(REPO, args.until)
    _print(before, after)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
