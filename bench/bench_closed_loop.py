"""Closed loop: all five automation functions over (up to) a year, wall time per component.

Usage::

    python bench/bench_closed_loop.py [--days N] [--scenario PATH] [--out FILE.json]
                                      [--keep DIR] [--cprofile FILE.prof]

Runs ``scenarios/mv-rural-all-functions-year.yaml`` (measurements, state
estimation, forecasting, central voltage control, reconfiguration and FLISR
with a fault and a bad-data event; 279 days, the longest period SimBench's
year 2016 permits after the forecaster's history) or its first ``--days N``,
in this process, and prints:

- wall time per component per step: from the run's ``timing`` table when the
  run directory has one (``timing.parquet``), else from timers this script
  wraps around every gridtwin simulator's ``step`` and ``get_data`` (the
  simulators run in-process, so the timers cost a few microseconds per call;
  ``mosaik + rest`` is the run's wall time minus the sum, i.e. the scheduler
  and the final flush);
- the total: start-up (load, check, profiles, forecaster training, world
  build), the run, ms per step, and the run extrapolated per step to the
  366 days (35,136 steps) of a full year: ``start-up + run / steps x 35136``;
- peak memory (max RSS of this process);
- the quality KPIs: state-estimation false alarms and bad data
  injected/detected/identified, voltage-band violation minutes, loss
  reduction of the reconfiguration against the held starting configuration,
  expected ENS before/after and the ENS of the fault, FLISR, and the intraday
  forecast skill against seasonal naive (load, PV).

``--out`` writes all of it as JSON. ``--cprofile`` also writes a cProfile
dump of the run (and then prints cumulative times per gridtwin module; the
profiler slows the run down about threefold, so the wall times are not
comparable then).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "mv-rural-all-functions-year.yaml"
YEAR_STEPS = 366 * 96


def peak_rss_mb() -> float:
    """Max resident set size of this process [MB]."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Timers:
    """Wall-time counters wrapped around every gridtwin simulator's ``step`` and ``get_data``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu_seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def install(self) -> None:
        from gridtwin.registry import SIM_CONFIG

        for name, cfg in SIM_CONFIG.items():
            module, _, cls_name = str(cfg["python"]).partition(":")
            cls = getattr(importlib.import_module(module), cls_name)
            for method in ("step", "get_data"):
                setattr(cls, method, self._wrap(name, getattr(cls, method)))

    def _wrap(self, name: str, func: Any) -> Any:
        seconds, cpu_seconds, calls = self.seconds, self.cpu_seconds, self.calls
        clock, cpu_clock = time.perf_counter, time.process_time

        def timed(sim: Any, *args: Any, **kwargs: Any) -> Any:
            t0, c0 = clock(), cpu_clock()
            try:
                return func(sim, *args, **kwargs)
            finally:
                seconds[name] += clock() - t0
                cpu_seconds[name] += cpu_clock() - c0
                calls[name] += 1

        return timed


def timing_table(run_dir: Path) -> dict[str, float] | None:
    """Seconds per simulator from the run's ``timing`` table, if it records one.

    The table (``gridtwin.pacing``) has one row per simulator (``element``: its
    role) and step with ``compute_ms``, and one row per step with element
    ``step``; a run records it in real time or when ``recording.tables`` lists
    ``timing``.
    """
    path = run_dir / "timing.parquet"
    if not path.exists():
        return None
    import pandas as pd

    frame = pd.read_parquet(path, columns=["element", "compute_ms"])
    frame = frame[frame["element"] != "step"]
    sums = frame.groupby("element", observed=True)["compute_ms"].sum()
    return {str(k): float(v) * 1e-3 for k, v in sums.items()}


def quality(kpis: dict[str, Any]) -> dict[str, Any]:
    """The quality KPIs of a run (None where the run has no such section)."""
    se, vc, rc = (kpis.get(s, {}) for s in ("se", "voltage", "reconfig"))
    fl, rel = kpis.get("flisr", {}), kpis.get("reliability", {})
    intraday = kpis.get("forecast", {}).get("intraday", {})
    return {
        "false_alarms": se.get("false_alarms"),
        "bad_data_injected_detected_identified": [
            se.get("bad_data_injected"),
            se.get("bad_data_detected"),
            se.get("bad_data_identified"),
        ],
        "vm_mae_pu": se.get("vm_mae_pu"),
        "violation_minutes": vc.get("violation_minutes"),
        "curtailed_mwh": vc.get("curtailed_mwh"),
        "losses_mwh": kpis.get("grid", {}).get("losses_mwh"),
        "loss_reduction_share": rc.get("loss_reduction_share"),
        "expected_ens_mwh_per_year_before": rc.get("expected_ens_mwh_per_year_before"),
        "expected_ens_mwh_per_year_after": rc.get("expected_ens_mwh_per_year_after"),
        "ens_mwh": rel.get("ens_mwh"),
        "flisr_located_correctly": fl.get("faults_located_correctly"),
        "flisr_restored_share": fl.get("restored_share"),
        "forecast_load_skill": intraday.get("load_skill_vs_seasonal_naive"),
        "forecast_pv_skill": intraday.get("pv_skill_vs_seasonal_naive"),
    }


def shorten(scenario: Any, days: float | None) -> Any:
    """The scenario's first ``days`` days, the events after that dropped."""
    if days is None:
        return scenario
    from gridtwin.timeparse import parse_duration_s

    scenario.time.duration = min(scenario.time.duration, int(days * 86400))
    kept = []
    for event in scenario.events:
        at = event.at
        if isinstance(at, str):
            try:
                at = parse_duration_s(at)
            except ValueError:
                kept.append(event)
                continue
        if float(at) < scenario.time.duration:
            kept.append(event)
    scenario.events = kept
    return scenario


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the scenario once; every figure of the report."""
    from gridtwin.scenario import load_scenario
    from gridtwin.world import build_world, prepare

    timers = Timers()
    timers.install()
    scenario = shorten(load_scenario(Path(args.scenario)), args.days)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(args.keep or tmp) / scenario.name
        t0, c0 = time.perf_counter(), time.process_time()
        prepared = prepare(scenario)
        built = build_world(scenario, out_dir=run_dir, prepared=prepared)
        t_start, c_start = time.perf_counter() - t0, time.process_time() - c0
        profiler = None
        if args.cprofile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t1, c1 = time.perf_counter(), time.process_time()
        result = built.run()
        t_run, c_run = time.perf_counter() - t1, time.process_time() - c1
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.cprofile)
        table = timing_table(run_dir)
    steps = int(result.kpis["run"]["steps"])
    per_component = table if table is not None else dict(timers.seconds)
    per_component = {k: v for k, v in per_component.items() if v > 0}
    rest = t_run - sum(per_component.values())
    return {
        "scenario": scenario.name,
        "days": scenario.time.duration / 86400,
        "steps": steps,
        "timing_source": "timing table" if table is not None else "simulator timers",
        "component_s": per_component,
        "component_cpu_s": {k: timers.cpu_seconds[k] for k in per_component if k in timers.calls},
        "component_calls": {k: timers.calls[k] for k in per_component if k in timers.calls},
        "mosaik_and_rest_s": rest,
        "startup_s": t_start,
        "run_s": t_run,
        "total_s": t_start + t_run,
        "ms_per_step": 1e3 * t_run / steps,
        "run_cpu_s": c_run,
        "cpu_ms_per_step": 1e3 * c_run / steps,
        "year_extrapolated_s": t_start + t_run / steps * YEAR_STEPS,
        "year_extrapolated_cpu_s": c_start + c_run / steps * YEAR_STEPS,
        "peak_rss_mb": peak_rss_mb(),
        "kpis": quality(result.kpis),
        "profiled": bool(args.cprofile),
    }


def report(r: dict[str, Any]) -> str:
    """The figures of one run as Markdown."""
    steps = r["steps"]
    lines = [
        f"# closed-loop benchmark, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{platform.machine()}, {os.cpu_count()} cores, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, Python {platform.python_version()}",
        f"# {r['scenario']}: {r['days']:g} days, {steps} steps"
        + (" (cProfile on: wall times inflated)" if r["profiled"] else ""),
        "",
        f"| component ({r['timing_source']}) | wall [s] | ms per step | CPU ms per step |",
        "| --- | ---: | ---: | ---: |",
    ]
    cpu = r["component_cpu_s"]
    for name, sec in sorted(r["component_s"].items(), key=lambda kv: -kv[1]):
        c = f"{1e3 * cpu[name] / steps:.3f}" if name in cpu else "–"
        lines.append(f"| {name} | {sec:.2f} | {1e3 * sec / steps:.3f} | {c} |")
    rest = r["mosaik_and_rest_s"]
    rest_cpu = r["run_cpu_s"] - sum(cpu.values())
    lines.append(
        f"| mosaik + rest | {rest:.2f} | {1e3 * rest / steps:.3f} | {1e3 * rest_cpu / steps:.3f} |"
    )
    lines.append(
        f"| **run** | **{r['run_s']:.2f}** | **{r['ms_per_step']:.3f}** "
        f"| **{r['cpu_ms_per_step']:.3f}** |"
    )
    lines += [
        "",
        f"- CPU time of the run (this process, all threads): {r['run_cpu_s']:.2f} s = "
        f"{r['cpu_ms_per_step']:.3f} ms per step (less sensitive to other jobs than wall time)",
        f"- start-up (prepare, forecaster training, build): {r['startup_s']:.2f} s; "
        f"total {r['total_s']:.2f} s",
        f"- extrapolated to 366 days ({YEAR_STEPS} steps): {r['year_extrapolated_s']:.0f} s "
        f"= {r['year_extrapolated_s'] / 60:.1f} min (target <= 5 min); in CPU time "
        f"{r['year_extrapolated_cpu_s']:.0f} s = {r['year_extrapolated_cpu_s'] / 60:.1f} min",
        f"- peak memory (max RSS): {r['peak_rss_mb']:.0f} MB (target <= 2048 MB)",
        "",
        "| KPI | value |",
        "| --- | ---: |",
    ]
    for key, value in r["kpis"].items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(SCENARIO))
    parser.add_argument("--days", type=float, default=None, help="run only the first N days")
    parser.add_argument("--out", default=None, help="also write the figures as JSON here")
    parser.add_argument("--keep", default=None, help="keep the run directory under DIR")
    parser.add_argument("--cprofile", default=None, help="write a cProfile dump of the run")
    args = parser.parse_args()
    if not Path(args.scenario).exists():
        sys.exit(f"error: {args.scenario}: no such scenario file")
    r = run(args)
    print(report(r))
    if args.cprofile:
        print_modules(args.cprofile)
    if args.out:
        Path(args.out).write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")


def print_modules(path: str) -> None:
    """Cumulative time per gridtwin module's outermost calls in a cProfile dump."""
    import pstats

    stats = pstats.Stats(path).stats  # type: ignore[attr-defined]
    per_module: dict[str, float] = defaultdict(float)
    for (file, _, _), (_, _, _, cum, callers) in stats.items():
        if "gridtwin" not in file:
            continue
        module = file.split("gridtwin/", 1)[-1]
        if not any(module == c[0].split("gridtwin/", 1)[-1] for c in callers):
            per_module[module] += cum  # only calls from other modules: no double count
    print("\n| module (cProfile, cumulative from outside the module) | s |")
    print("| --- | ---: |")
    for module, cum in sorted(per_module.items(), key=lambda kv: -kv[1])[:25]:
        print(f"| {module} | {cum:.2f} |")


if __name__ == "__main__":
    main()
