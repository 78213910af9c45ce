"""Re-measure every shipped scenario in one or more source trees and compare.

Two steps, one command each:

``python bench/bench_scenarios.py run ROOT --tree before=/path/a --tree after=/path/b``
    Runs every ``scenarios/*.yaml`` of the given trees (the union by name; a
    tree without a scenario skips it), one run at a time, with
    ``PYTHONPATH=<tree>/src python -m gridtwin run <tree>/scenarios/<name>.yaml
    --out ROOT/<label>/<name> -q`` in a subprocess whose working directory is
    the tree. For each scenario the trees run one after the other, so that
    their wall times see a similar load. The wall time of the whole command
    (imports included) goes to ``ROOT/<label>/<name>/bench_wall.json``.
    ``--until NAME=DUR`` (repeatable) shortens one scenario to ``--until DUR``
    in every tree; ``--only NAME`` (repeatable) restricts the set.

``python bench/bench_scenarios.py compare BEFORE_ROOT AFTER_ROOT``
    Reads ``kpis.json`` and ``bench_wall.json`` of every run directory under
    the two roots (``ROOT/<label>`` folders, as ``run`` writes them) and
    prints one markdown table: one row per scenario and figure, columns
    before / after / change. A scenario present only in one root shows an
    empty cell on the other side.

The figures are those of the KPI sections present in a run: grid losses
[MWh], energy not supplied [MWh] and restored share (reliability, FLISR),
voltage-band violation minutes [bus-min] and DER curtailment [MWh] (voltage
control), loss reduction against the starting configuration [%]
(reconfiguration), forecast skill against persistence (forecasting),
chi-square alarm rates on clean steps and bad-data detection and
identification (estimation), and the wall time of the command [s].
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Figure = tuple[str, Callable[[dict[str, Any]], float | None]]


def scenario_names(trees: dict[str, Path]) -> list[str]:
    """Names of the scenarios shipped by any of ``trees``, sorted."""
    names: set[str] = set()
    for tree in trees.values():
        names.update(p.stem for p in (tree / "scenarios").glob("*.yaml"))
    return sorted(names)


def run_one(tree: Path, name: str, out_dir: Path, until: str | None) -> float:
    """Run scenario ``name`` of ``tree`` into ``out_dir``; return the wall time [s]."""
    cmd = [sys.executable, "-m", "gridtwin", "run", str(tree / "scenarios" / f"{name}.yaml")]
    cmd += ["--out", str(out_dir), "-q"]
    if until:
        cmd += ["--until", until]
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, check=False)
    wall_s = time.perf_counter() - t0
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {"wall_s": wall_s, "returncode": proc.returncode, "until": until, "cmd": cmd}
    (out_dir / "bench_wall.json").write_text(json.dumps(record, indent=1))
    if proc.returncode != 0:
        (out_dir / "bench_stderr.txt").write_text(proc.stderr)
    return wall_s


def cmd_run(args: argparse.Namespace) -> None:
    """Run every scenario in every tree, one run at a time."""
    trees = {k: Path(v).resolve() for k, v in (t.split("=", 1) for t in args.tree)}
    until = dict(u.split("=", 1) for u in args.until)
    root = Path(args.root)
    names = args.only or scenario_names(trees)
    for name in names:
        for label, tree in trees.items():
            if not (tree / "scenarios" / f"{name}.yaml").is_file():
                continue
            out_dir = root / label / name
            if (out_dir / "bench_wall.json").is_file() and not args.again:
                continue
            wall_s = run_one(tree, name, out_dir, until.get(name))
            print(f"{label:>8} {name:<28} {wall_s:8.1f} s", flush=True)


def _get(d: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _pick(*keys: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda k: _get(k, *keys)


def _ratio(num: str, den: str, *section: str) -> Callable[[dict[str, Any]], float | None]:
    def get(k: dict[str, Any]) -> float | None:
        n, d = _get(k, *section, num), _get(k, *section, den)
        return n / d if isinstance(n, int | float) and d else None

    return get


def _skill_vs_persistence(cadence: str, group: str) -> Callable[[dict[str, Any]], float | None]:
    """1 - MAE(model) / MAE(persistence) of one cadence and group."""

    def get(k: dict[str, Any]) -> float | None:
        m = _get(k, "forecast", cadence, f"{group}_mae_mw")
        p = _get(k, "forecast", cadence, f"{group}_mae_persistence_mw")
        return 1.0 - m / p if isinstance(m, int | float) and p else None

    return get


def _forecast_figures() -> list[Figure]:
    out: list[Figure] = []
    for cadence in ("intraday", "day_ahead"):
        for group in ("load", "pv"):
            out += [
                (
                    f"forecast {cadence} {group} MAE [MW]",
                    _pick("forecast", cadence, f"{group}_mae_mw"),
                ),
                (
                    f"forecast {cadence} {group} skill vs persistence",
                    _skill_vs_persistence(cadence, group),
                ),
                (
                    f"forecast {cadence} {group} skill vs seasonal naive",
                    _pick("forecast", cadence, f"{group}_skill_vs_seasonal_naive"),
                ),
            ]
        out.append((f"forecast {cadence} PICP80", _pick("forecast", cadence, "picp80")))
    return out


FIGURES: list[Figure] = [
    ("grid losses [MWh]", _pick("grid", "losses_mwh")),
    ("energy not supplied [MWh]", _pick("grid", "energy_not_supplied_mwh")),
    ("de-energized bus-steps", _pick("grid", "deenergized_bus_steps")),
    ("power flows not converged", _pick("grid", "pf_nonconverged_steps")),
    ("reliability ENS [MWh]", _pick("reliability", "ens_mwh")),
    ("reliability SAIDI [min]", _pick("reliability", "saidi_min")),
    ("flisr faults located correctly", _pick("flisr", "faults_located_correctly")),
    ("flisr restored share", _pick("flisr", "restored_share")),
    ("flisr restoration time mean [s]", _pick("flisr", "restoration_time_s_mean")),
    ("flisr switch operations", _pick("flisr", "operations")),
    ("voltage violation [bus-min]", _pick("voltage", "violation_minutes")),
    ("voltage vm max [pu]", _pick("voltage", "vm_max_pu")),
    ("voltage tap changes", _pick("voltage", "tap_changes")),
    ("voltage curtailed [MWh]", _pick("voltage", "curtailed_mwh")),
    ("voltage reactive energy sum abs(Q) [Mvarh]", _pick("voltage", "q_abs_mvarh")),
    ("reconfig losses [MWh]", _pick("reconfig", "losses_mwh")),
    ("reconfig losses held config [MWh]", _pick("reconfig", "losses_mwh_static")),
    ("reconfig loss reduction [MWh]", _pick("reconfig", "loss_reduction_mwh")),
    ("reconfig loss reduction share", _pick("reconfig", "loss_reduction_share")),
    ("reconfig switch operations", _pick("reconfig", "switch_operations")),
    ("reconfig plans suspended", _pick("reconfig", "plans_suspended")),
    (
        "reconfig expected ENS after [MWh/a]",
        _pick("reconfig", "expected_ens_mwh_per_year_after"),
    ),
    *_forecast_figures(),
    ("se steps estimated", _pick("se", "steps_estimated")),
    ("se vm MAE [pu]", _pick("se", "vm_mae_pu")),
    ("se false alarms [steps]", _pick("se", "false_alarms")),
    ("se false alarms per estimated step", _ratio("false_alarms", "steps_estimated", "se")),
    ("se bad data injected", _pick("se", "bad_data_injected")),
    ("se bad data detected", _pick("se", "bad_data_detected")),
    ("se bad data identified", _pick("se", "bad_data_identified")),
    ("peak export to the upstream grid [MW]", _pick("_bench", "export_max_mw")),
    ("commands sent", _pick("_bench", "commands")),
    ("commands applied", _pick("_bench", "commands_applied")),
    ("commands dropped", _pick("_bench", "commands_dropped")),
    ("command issue-to-arrival mean [s]", _pick("_bench", "command_delay_s_mean")),
    ("run wall (in kpis.json) [s]", _pick("run", "wall_s")),
]


def table_figures(run_dir: Path) -> dict[str, float]:
    """Figures read from the recorded tables: peak export and the command channel."""
    import pandas as pd

    out: dict[str, float] = {}
    grid_file = run_dir / "grid.parquet"
    if grid_file.exists():
        grid = pd.read_parquet(grid_file, columns=["ext_grid_p_mw"])
        out["export_max_mw"] = float(max(0.0, -grid["ext_grid_p_mw"].min()))
    cmd_file = run_dir / "command.parquet"
    if cmd_file.exists():
        cmd = pd.read_parquet(cmd_file, columns=["status", "issued_s", "arrival_s"])
        out["commands"] = len(cmd)
        out["commands_applied"] = int((cmd["status"] == "applied").sum())
        out["commands_dropped"] = int(cmd["status"].str.startswith("dropped").sum())
        arrived = cmd[cmd["arrival_s"] >= 0]
        if len(arrived):
            delay_s = arrived["arrival_s"] - arrived["issued_s"]
            out["command_delay_s_mean"] = float(delay_s.mean())
    return out


def load_runs(root: Path) -> dict[str, dict[str, Any]]:
    """``{scenario: {"kpis": ..., "wall": ...}}`` of every run directory under ``root``."""
    runs: dict[str, dict[str, Any]] = {}
    for wall_file in sorted(root.glob("*/bench_wall.json")):
        run_dir = wall_file.parent
        kpis_file = run_dir / "kpis.json"
        kpis = json.loads(kpis_file.read_text()) if kpis_file.is_file() else {}
        kpis["_bench"] = table_figures(run_dir)
        runs[run_dir.name] = {"kpis": kpis, "wall": json.loads(wall_file.read_text())}
    return runs


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:.1f}"
    return f"{value:.4g}"


def _change(before: float | None, after: float | None) -> str:
    if not isinstance(before, int | float) or not isinstance(after, int | float):
        return ""
    diff = after - before
    if diff == 0:
        return "0"
    if before == 0:
        return f"{diff:+.4g}"
    return f"{diff:+.4g} ({100.0 * diff / abs(before):+.1f} %)"


def rows(before: dict[str, Any], after: dict[str, Any]) -> Iterator[list[str]]:
    """One markdown row per scenario and figure present in either run."""
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name), after.get(name)
        for label, getter in FIGURES:
            vb = getter(b["kpis"]) if b else None
            va = getter(a["kpis"]) if a else None
            if vb is None and va is None:
                continue
            yield [name, label, _fmt(vb), _fmt(va), _change(vb, va)]
        wb = b["wall"]["wall_s"] if b else None
        wa = a["wall"]["wall_s"] if a else None
        yield [name, "wall time [s]", _fmt(wb), _fmt(wa), _change(wb, wa)]


def cmd_compare(args: argparse.Namespace) -> None:
    """Print the before/after markdown table."""
    before, after = load_runs(Path(args.before)), load_runs(Path(args.after))
    print("| scenario | figure | before | after | change |")
    print("| --- | --- | ---: | ---: | ---: |")
    for row in rows(before, after):
        print("| " + " | ".join(row) + " |")
    failed = [
        f"{side}/{n}"
        for side, runs in (("before", before), ("after", after))
        for n, r in runs.items()
        if r["wall"]["returncode"] != 0
    ]
    if failed:
        print("\nfailed runs: " + ", ".join(failed))


def main() -> None:
    """Parse the command line and run ``run`` or ``compare``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run every scenario of the trees into ROOT")
    p_run.add_argument("root")
    p_run.add_argument("--tree", action="append", required=True, help="LABEL=PATH")
    p_run.add_argument("--until", action="append", default=[], help="NAME=DURATION")
    p_run.add_argument("--only", action="append", default=[], help="scenario name")
    p_run.add_argument("--again", action="store_true", help="rerun existing run dirs")
    p_run.set_defaults(func=cmd_run)
    p_cmp = sub.add_parser("compare", help="markdown table of two run roots")
    p_cmp.add_argument("before")
    p_cmp.add_argument("after")
    p_cmp.set_defaults(func=cmd_compare)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
