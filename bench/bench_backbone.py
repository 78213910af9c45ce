"""Backbone speed: gridtwin's year run next to pandapower's run_timeseries, one process.

Usage::

    python bench/bench_backbone.py [--pp-steps 2000] [--until 366d]
    python bench/bench_backbone.py --marginal [--short 2d --long 14d --pp-short 100 --pp-long 600]

1. ``gridtwin`` runs ``scenarios/mv-rural-year.yaml`` (SimBench profiles, power
   flow with power-grid-model, Parquet recording of every table) through mosaik.
2. pandapower's ``run_timeseries`` (ConstControl + DFData + OutputWriter, as
   its tutorial does) runs the same grid and the same profiles over the first
   ``--pp-steps`` steps of the year.
Prints wall times, ms per step, their ratio and peak memory (max RSS).

``--marginal``: both tools run a short and a long period, one after the
other in this process, and the cost per step is the difference of the two
runs divided by the difference of their steps (start-up, the first flush and
pandapower's first, numba-compiling power flow cancel), in wall time and in
CPU time of this process (less sensitive to other jobs on the machine).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import resource
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_gridtwin(until: str | None) -> dict:
    """The year scenario (or its first ``until``) through gridtwin: wall, CPU, memory."""
    from gridtwin.scenario import load_scenario
    from gridtwin.timeparse import parse_duration_s
    from gridtwin.world import prepare, run_scenario

    scenario = load_scenario(REPO / "scenarios" / "mv-rural-year.yaml")
    if until:
        scenario.time.duration = parse_duration_s(until)
    t0 = time.perf_counter()
    prepared = prepare(scenario)
    t_prep = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t1, c1 = time.perf_counter(), time.process_time()
        result = run_scenario(scenario, out_dir=Path(tmp) / "run", prepared=prepared)
        t_run, c_run = time.perf_counter() - t1, time.process_time() - c1
        size_mb = sum(p.stat().st_size for p in Path(tmp).rglob("*")) / 1e6
    return {
        "steps": scenario.n_steps,
        "prepare_s": t_prep,
        "run_s": t_run,
        "cpu_s": c_run,
        "total_s": t_prep + t_run,
        "ms_per_step": 1e3 * t_run / scenario.n_steps,
        "peak_rss_mb": peak_rss_mb(),
        "store_mb": size_mb,
        "nonconverged": result.kpis["grid"]["pf_nonconverged_steps"],
    }


def run_pandapower(n_steps: int) -> dict:
    import pandapower as pp
    import pandapower.control as control
    import pandapower.timeseries as ts
    import simbench
    from pandapower.timeseries.data_sources.frame_data import DFData

    warnings.simplefilter("ignore")
    net = simbench.get_simbench_net("1-MV-rural--0-sw")
    profiles = simbench.get_absolute_values(net, profiles_instead_of_study_cases=True)
    for (element, quantity), frame in profiles.items():
        if frame.shape[1] == 0 or element not in ("load", "sgen"):
            continue
        frame = frame.iloc[:n_steps]
        control.ConstControl(
            net,
            element=element,
            variable=quantity,
            element_index=frame.columns,
            data_source=DFData(frame),
            profile_name=frame.columns,
        )
    with tempfile.TemporaryDirectory() as tmp:
        writer = ts.OutputWriter(net, output_path=tmp, output_file_type=".p")
        writer.log_variable("res_bus", "vm_pu")
        writer.log_variable("res_bus", "va_degree")
        writer.log_variable("res_line", "loading_percent")
        writer.log_variable("res_line", "p_from_mw")
        writer.log_variable("res_trafo", "loading_percent")
        t0, c0 = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            ts.run_timeseries(
                net, time_steps=range(n_steps), verbose=False, calculate_voltage_angles=True
            )
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    numba = pp.__dict__.get("numba_installed", None)
    return {
        "steps": n_steps,
        "run_s": elapsed,
        "cpu_s": cpu,
        "ms_per_step": 1e3 * elapsed / n_steps,
        "numba": numba,
    }


def marginal(args: argparse.Namespace) -> None:
    """Cost per step as the difference of a short and a long run, for both tools."""
    import os

    g_short, g_long = run_gridtwin(args.short), run_gridtwin(args.long)
    p_short, p_long = run_pandapower(args.pp_short), run_pandapower(args.pp_long)

    def per_step(a: dict, b: dict, key: str) -> float:
        return 1e3 * (b[key] - a[key]) / (b["steps"] - a["steps"])

    print(
        f"# backbone marginal cost per step, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{_cores()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print()
    print("| what | short run | long run | marginal ms/step (wall) | marginal ms/step (CPU) |")
    print("| --- | --- | --- | ---: | ---: |")
    rows = []
    for name, a, b in (
        ("gridtwin (mosaik + power-grid-model + Parquet)", g_short, g_long),
        ("pandapower run_timeseries", p_short, p_long),
    ):
        wall, cpu = per_step(a, b, "run_s"), per_step(a, b, "cpu_s")
        rows.append((wall, cpu))
        print(
            f"| {name} | {a['steps']} steps, {a['run_s']:.2f} s | "
            f"{b['steps']} steps, {b['run_s']:.2f} s | {wall:.3f} | {cpu:.3f} |"
        )
    (gw, gc), (pw, pc) = rows
    print()
    print(f"- pandapower / gridtwin per step: {pw / gw:.1f}x (wall), {pc / gc:.1f}x (CPU)")
    year = g_long["prepare_s"] + g_long["run_s"] / g_long["steps"] * 35136
    print(f"- gridtwin year from the long run's mean per step (wall): {year:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pp-steps", type=int, default=2000)
    parser.add_argument("--until", default=None, help="shorten the gridtwin run, e.g. 30d")
    parser.add_argument("--marginal", action="store_true", help="short and long runs of both")
    parser.add_argument("--short", default="2d")
    parser.add_argument("--long", default="14d")
    parser.add_argument("--pp-short", type=int, default=100)
    parser.add_argument("--pp-long", type=int, default=600)
    args = parser.parse_args()
    if args.marginal:
        marginal(args)
        return

    gt = run_gridtwin(args.until)
    ref = run_pandapower(args.pp_steps)
    try:
        import numba  # noqa: F401

        numba_state = "with numba"
    except ImportError:
        numba_state = "without numba"
    ratio = ref["ms_per_step"] / gt["ms_per_step"]
    rows = [
        (
            "gridtwin run (mosaik + power-grid-model + Parquet)",
            gt["steps"],
            gt["run_s"],
            gt["ms_per_step"],
        ),
        (
            f"pandapower run_timeseries ({numba_state})",
            ref["steps"],
            ref["run_s"],
            ref["ms_per_step"],
        ),
    ]
    print(
        f"# backbone benchmark, {time.strftime('%Y-%m-%d')}, "
        f"{platform.processor() or platform.machine()}, "
        f"{_cores()} cores, Python {platform.python_version()}"
    )
    print()
    print("| what | steps | wall [s] | ms per step |")
    print("| --- | ---: | ---: | ---: |")
    for name, steps, wall, ms in rows:
        print(f"| {name} | {steps} | {wall:.2f} | {ms:.3f} |")
    print()
    print(
        f"- gridtwin load + check + profiles (prepare): {gt['prepare_s']:.2f} s; "
        f"total {gt['total_s']:.2f} s for {gt['steps']} steps"
    )
    print(f"- speed-up per step vs pandapower run_timeseries: {ratio:.1f}x")
    print(
        f"- peak memory (max RSS of the gridtwin run, before pandapower ran): "
        f"{gt['peak_rss_mb']:.0f} MB"
    )
    print(
        f"- run store on disk: {gt['store_mb']:.0f} MB; power flows not converged: "
        f"{gt['nonconverged']}"
    )


def _cores() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    pd.options.mode.chained_assignment = None
    np.seterr(all="ignore")
    main()
