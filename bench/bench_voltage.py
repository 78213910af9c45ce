"""Voltage control: the four high-pv-voltage variants side by side, and the decision time.

Usage::

    python bench/bench_voltage.py [--until 7d]

Runs ``scenarios/high-pv-voltage{,-oltc,-local,-central}.yaml`` (the same
grid, week, measurement plan and estimator) and prints their ``voltage``
KPIs as one markdown table, plus the centralized controller's decision time
per interval (linearization + linear program) on MV-rural.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VARIANTS = [
    ("no control", "high-pv-voltage"),
    ("OLTC", "high-pv-voltage-oltc"),
    ("local Q(U)/P(U)", "high-pv-voltage-local"),
    ("centralized", "high-pv-voltage-central"),
]


def main() -> None:
    from gridtwin.scenario import load_scenario
    from gridtwin.timeparse import parse_duration_s
    from gridtwin.world import run_scenario

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--until", default=None, help="shorten the runs, e.g. 1d")
    args = parser.parse_args()
    print(
        f"# voltage-control benchmark, {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"Python {platform.python_version()}\n"
    )
    rows = []
    for label, name in VARIANTS:
        sc = load_scenario(REPO / "scenarios" / f"{name}.yaml")
        if args.until:
            sc.time.duration = parse_duration_s(args.until)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            result = run_scenario(sc, out_dir=Path(tmp) / "run")
            wall = time.perf_counter() - t0
        rows.append((label, result.kpis["voltage"], wall))
    print(
        "| variant | violation [min] | violation bus-steps | Vm max [pu] | Vm min [pu] "
        "| tap changes | curtailed [MWh] | curtailed share | Q [MVArh] | losses [MWh] | wall [s] |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, v, wall in rows:
        print(
            f"| {label} | {v['violation_minutes']:.0f} | {v['violation_bus_steps']} | "
            f"{v['vm_max_pu']:.4f} | {v['vm_min_pu']:.4f} | {v['tap_changes']} | "
            f"{v['curtailed_mwh']:.3f} | {100 * v['curtailed_share']:.2f} % | "
            f"{v['q_abs_mvarh']:.1f} | {v['losses_mwh']:.3f} | {wall:.1f} |"
        )
    central = rows[-1][1]
    if "central_ms_p50" in central:
        print(
            f"\n- centralized decision per interval: median {central['central_ms_p50']:.1f} ms, "
            f"p95 {central['central_ms_p95']:.1f} ms (target <= 50 ms)"
        )


if __name__ == "__main__":
    main()
