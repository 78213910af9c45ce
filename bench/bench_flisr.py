"""Benchmark of fault replay with FLISR; prints markdown tables.

1. ``scenarios/mv-fault-flisr.yaml`` (SimBench 1-MV-rural--0-sw, permanent
   fault 08:00, repair 14:00) with FLISR (remote switches), FLISR with only the
   breakers remote (crews drive to the load-break switches, 1 h each), and
   without FLISR: energy not supplied, customer minutes lost, restored share,
   and the voltage and loading extremes of the whole day (restoration included)
   against the limits (0.9-1.1 pu, 100 %).
2. Sweep: the same day with the permanent fault on every ``--every``-th line
   of the grid, FLISR on and off: ENS reduction per fault, how often FLISR
   located the faulted line, and violations.

Targets (issue 7): FLISR locates the fault, ENS at least 50 % lower than
without FLISR, no voltage or loading violation during restoration.

Run: ``python bench/bench_flisr.py [--every N]`` (default 8).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml

from gridtwin.scenario import scenario_from_dict
from gridtwin.world import prepare, run_scenario

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "scenarios" / "mv-fault-flisr.yaml"
VM_MIN, VM_MAX, LOADING_MAX = 0.9, 1.1, 100.0


def _run(data: dict, out: Path) -> tuple[dict, float]:
    sc = scenario_from_dict(data, source=str(SCENARIO), base_dir=SCENARIO.parent)
    t0 = time.perf_counter()
    result = run_scenario(sc, out_dir=out, prepared=prepare(sc))
    return result.kpis, time.perf_counter() - t0


def _violations(k: dict) -> bool:
    g = k["grid"]
    return bool(
        g["vm_min_pu"] < VM_MIN
        or g["vm_max_pu"] > VM_MAX
        or g["line_loading_max_percent"] > LOADING_MAX
        or g["trafo_loading_max_percent"] > LOADING_MAX
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=8, help="sweep every N-th line")
    args = parser.parse_args()
    base = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-flisr-"))

    variants = {
        "FLISR, remote switches (30 s)": base,
        "FLISR, remote breakers, manual LBS (1 h)": {
            **base,
            "flisr": {**base["flisr"], "remote": "breakers", "manual_time": "1h"},
        },
        "no FLISR": {k: v for k, v in base.items() if k != "flisr"},
    }
    rows = []
    ref = None
    for label, data in variants.items():
        k, wall = _run(data, tmp / label.replace(" ", "_").replace(",", ""))
        rows.append((label, k, wall))
        if label == "no FLISR":
            ref = k["reliability"]["ens_mwh"]
    print("## mv-fault-flisr: one permanent fault, 08:00 to 14:00\n")
    print(
        "| run | ENS [MWh] | ENS reduction | CML [min] | SAIDI [min] | located | restored share"
        " | restoration [s] | vm min..max [pu] | max loading [%] | violations | wall [s] |"
    )
    print("|" + "---|" * 12)
    for label, k, wall in rows:
        r, f, g = k["reliability"], k.get("flisr", {}), k["grid"]
        red = 1 - r["ens_mwh"] / ref if ref else float("nan")
        rt = f.get("restoration_time_s_mean")
        print(
            f"| {label} | {r['ens_mwh']:.3f} | {red:.1%} | {r['customer_minutes_lost']:.0f} "
            f"| {r['saidi_min']:.2f} | {f.get('faults_located_correctly', '-')} "
            f"| {f.get('restored_share', '-') if f else '-'} | {rt if rt is not None else '-'} "
            f"| {g['vm_min_pu']:.3f}..{g['vm_max_pu']:.3f} "
            f"| {max(g['line_loading_max_percent'], g['trafo_loading_max_percent']):.1f} "
            f"| {'yes' if _violations(k) else 'no'} | {wall:.1f} |"
        )

    from gridtwin.grid.sources import load_net

    sc = scenario_from_dict(base, source=str(SCENARIO), base_dir=SCENARIO.parent)
    net = load_net(sc.grid, sc.source_file)
    names = list(net.line["name"].astype(str))[:: args.every]
    print(f"\n## Sweep: a permanent fault on every {args.every}th line ({len(names)} faults)\n")
    print(
        "| line | ENS off [MWh] | ENS on [MWh] | reduction | located | restored share "
        "| violations (on) |"
    )
    print("|---|---|---|---|---|---|---|")
    total_off = total_on = 0.0
    located = violations = 0
    for name in names:
        events = [
            {"at": "8h", "type": "line_fault", "target": name, "permanent": 1},
            {"at": "14h", "type": "repair", "target": name},
        ]
        on, _ = _run({**base, "events": events}, tmp / f"on-{name}")
        off, _ = _run(
            {**{k: v for k, v in base.items() if k != "flisr"}, "events": events},
            tmp / f"off-{name}",
        )
        e_on, e_off = on["reliability"]["ens_mwh"], off["reliability"]["ens_mwh"]
        total_on += e_on
        total_off += e_off
        loc = on["flisr"]["faults_located_correctly"]
        located += loc
        viol = _violations(on)
        violations += viol
        red = f"{1 - e_on / e_off:.1%}" if e_off > 0 else "-"
        share = on["flisr"]["restored_share"]
        print(
            f"| {name} | {e_off:.3f} | {e_on:.3f} | {red} | {loc} "
            f"| {'-' if share is None else f'{share:.2f}'} | {'yes' if viol else 'no'} |"
        )
    red_all = 1 - total_on / total_off if total_off else float("nan")
    print(
        f"\nAll faults: ENS {total_off:.3f} MWh without FLISR, {total_on:.3f} MWh with "
        f"({red_all:.1%} less); located correctly {located} of {len(names)}; "
        f"runs with a voltage or loading violation: {violations}."
    )


if __name__ == "__main__":
    main()
