"""All functions at once: the all-functions week and its single-function variants side by side.

Usage::

    python bench/bench_all_functions.py [--until 7d] [--variants all,se,se+vc] [--keep DIR]
    python bench/bench_all_functions.py --scenario scenarios/X.yaml --variants all,all-rc

Runs ``scenarios/mv-rural-all-functions.yaml`` (or ``--scenario``) and variants
of it that drop functions (``se``: measurements and estimation only; ``+fc``,
``+vc``, ``+rc``, ``+flisr`` add forecasting, central voltage control,
reconfiguration, FLISR with the fault; ``all-X`` drops one), and prints per
variant: the estimator's false alarms on clean steps, the bad data identified,
violation minutes, FLISR location/restoration, reconfiguration losses against
the held starting configuration (the static twin) and expected ENS, and the
pseudo-measurement calibration: RMS and share beyond 3 of the normalized
errors ``(value - truth) / sigma`` of the pseudo-measurements (loads, sgens;
P and Q) and of the smart meters, the figures that say whether the sigmas
the estimator is given describe the errors it sees.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "mv-rural-all-functions.yaml"
SECTIONS = {"fc": "forecasting", "vc": "voltage_control", "rc": "reconfiguration", "flisr": "flisr"}
FAULT_EVENTS = ("line_fault", "repair")


def variant(base: Any, name: str) -> Any:
    """The scenario ``base`` with the functions of variant ``name`` (see the module doc)."""
    sc = base.model_copy(deep=True)
    if name == "all":
        return sc
    if name.startswith("all-"):
        keep = set(SECTIONS) - set(name[4:].split("-"))
    elif name.startswith("se"):
        keep = {p for p in name.split("+")[1:]}
    else:
        raise SystemExit(f"unknown variant {name!r}")
    for key, section in SECTIONS.items():
        if key not in keep:
            setattr(sc, section, None)
    if "flisr" not in keep:
        sc.events = [e for e in sc.events if str(e.type) not in FAULT_EVENTS]
    sc.name = f"{base.name}-{name.replace('+', '_')}"
    return sc


def calibration(run_dir: Path) -> dict[str, tuple[float, float, int]]:
    """Per channel group: RMS of ``(value - truth) / sigma``, share with |z| > 3, count."""
    import pandas as pd

    m = pd.read_parquet(run_dir / "measurement.parquet")
    m = m[m["valid"] & ~m["corrupted"]]
    parts = m["element"].str.split(":", n=2, expand=True)
    m = m.assign(cls=parts[0], qty=parts[1], name=parts[2])
    out: dict[str, tuple[float, float, int]] = {}
    for table in ("load", "sgen"):
        truth = pd.read_parquet(run_dir / f"{table}.parquet")[
            ["sim_time_s", "element", "p_mw", "q_mvar"]
        ]
        truth = truth.melt(["sim_time_s", "element"], var_name="qty", value_name="truth")
        j = m.merge(
            truth, left_on=["sim_time_s", "name", "qty"], right_on=["sim_time_s", "element", "qty"]
        )
        for (cls, qty), g in j.groupby(["cls", "qty"]):
            z = ((g["value"] - g["truth"]) / g["sigma"]).to_numpy()
            out[f"{cls} {table} {qty}"] = (
                float(np.sqrt(np.mean(z**2))),
                float(np.mean(np.abs(z) > 3)),
                len(z),
            )
    return out


def figures(result: Any, run_dir: Path) -> dict[str, Any]:
    """The figures of one run (absent ones as None)."""
    import pandas as pd

    k = result.kpis
    se, v, rc, fl = (k.get(s, {}) for s in ("se", "voltage", "reconfig", "flisr"))
    est = pd.read_parquet(run_dir / "estimation.parquet")
    clean = int(est["estimated"].sum()) - int(se.get("bad_data_injected", 0))
    return {
        "steps": k["run"]["steps"],
        "clean": clean,
        "false_alarms": se.get("false_alarms"),
        "fa_rate": se.get("false_alarms", 0) / clean if clean else None,
        "bad": f"{se.get('bad_data_injected')}/{se.get('bad_data_detected')}/"
        f"{se.get('bad_data_identified')}",
        "vm_mae": se.get("vm_mae_pu"),
        "viol_min": v.get("violation_minutes"),
        "curtailed_mwh": v.get("curtailed_mwh"),
        "losses_mwh": k["grid"]["losses_mwh"],
        "rc_static_mwh": rc.get("losses_mwh_static"),
        "rc_reduction": rc.get("loss_reduction_share"),
        "ens_before": rc.get("expected_ens_mwh_per_year_before"),
        "ens_after": rc.get("expected_ens_mwh_per_year_after"),
        "rc_ops": rc.get("switch_operations"),
        "flisr": f"{fl.get('faults_located_correctly')}/{fl.get('restored_share')}" if fl else None,
        "calibration": calibration(run_dir),
    }


def fmt(x: Any, spec: str = ".3f") -> str:
    if x is None:
        return "–"
    return format(x, spec) if isinstance(x, float) else str(x)


def main() -> None:
    from gridtwin.scenario import load_scenario
    from gridtwin.timeparse import parse_duration_s
    from gridtwin.world import run_scenario

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(SCENARIO))
    parser.add_argument("--until", default=None, help="shorten the runs, e.g. 1d")
    parser.add_argument("--variants", default="all,se,se+fc,se+vc,se+rc,se+flisr")
    parser.add_argument("--keep", default=None, help="keep run directories under DIR")
    parser.add_argument(
        "--no-robust", action="store_true", help="reconfiguration without the hold test (before)"
    )
    args = parser.parse_args()
    if args.no_robust:  # diagnostic only: the controller as it was before the hold test
        from gridtwin.controllers.reconfig.controller import Controller

        post = Controller.__post_init__

        def plain(self: Any) -> None:
            post(self)
            self.robust = False

        Controller.__post_init__ = plain  # type: ignore[method-assign]
    base = load_scenario(Path(args.scenario))
    if args.until:
        base.time.duration = parse_duration_s(args.until)
    print(
        f"# all-functions benchmark, {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"Python {platform.python_version()}, {base.name}\n"
    )
    rows = []
    for name in args.variants.split(","):
        sc = variant(base, name)
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = Path(args.keep or tmp) / sc.name
            t0 = time.perf_counter()
            result = run_scenario(sc, out_dir=run_dir)
            wall = time.perf_counter() - t0
            rows.append((name, figures(result, run_dir), wall))
    print(
        "| variant | false alarms / clean steps | rate | bad data inj/det/id | Vm MAE [pu] "
        "| violation [bus-min] | curtailed [MWh] | losses [MWh] | held config [MWh] "
        "| loss reduction | E[ENS] before/after [MWh/a] | switch ops | FLISR located/restored "
        "| wall [s] |"
    )
    print("| --- |" + " ---: |" * 13)
    for name, f, wall in rows:
        red = f["rc_reduction"]
        print(
            f"| {name} | {f['false_alarms']} / {f['clean']} | {fmt(f['fa_rate'], '.1%')} | "
            f"{f['bad']} | {fmt(f['vm_mae'], '.5f')} | {fmt(f['viol_min'], '.0f')} | "
            f"{fmt(f['curtailed_mwh'])} | {f['losses_mwh']:.3f} | {fmt(f['rc_static_mwh'])} | "
            f"{fmt(red, '.1%')} | {fmt(f['ens_before'])} / {fmt(f['ens_after'])} | "
            f"{fmt(f['rc_ops'])} | {fmt(f['flisr'])} | {wall:.0f} |"
        )
    print("\npseudo-measurement and meter calibration, z = (value - truth) / sigma:\n")
    groups = sorted({g for _, f, _ in rows for g in f["calibration"]})
    print("| variant | " + " | ".join(f"{g}: RMS z, share |z|>3" for g in groups) + " |")
    print("| --- |" + " ---: |" * len(groups))
    for name, f, _ in rows:
        cells = []
        for g in groups:
            c = f["calibration"].get(g)
            cells.append("–" if c is None else f"{c[0]:.2f}, {c[1]:.1%}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
