"""The command line end to end, as a user runs it (subprocesses, real files)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd


def gridtwin(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gridtwin", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def test_demo_scenario_end_to_end(repo, tmp_path):
    out = tmp_path / "demo"
    proc = gridtwin("run", str(repo / "scenarios" / "mv-rural-day.yaml"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "96/96" in proc.stderr  # the progress bar reached the end
    for figure in (
        "steps",
        "wall time",
        "min bus voltage",
        "max bus voltage",
        "max line loading",
        "energy losses",
    ):
        assert figure in proc.stdout
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["run"]["steps"] == 96
    assert kpis["grid"]["pf_nonconverged_steps"] == 0
    assert 0.9 < kpis["grid"]["vm_min_pu"] < kpis["grid"]["vm_max_pu"] < 1.1
    assert len(pd.read_parquet(out / "bus.parquet")) == 96 * 97
    assert (out / "report.html").is_file()  # written at the end of run
    shown = gridtwin("show", str(out))
    assert shown.returncode == 0, shown.stderr
    # show prints the table of the end of run: same figures, same units
    end_of_run = [ln for ln in proc.stdout.splitlines() if "│" in ln and "wall time" not in ln]
    shown_rows = [ln for ln in shown.stdout.splitlines() if "│" in ln and "wall time" not in ln]
    assert end_of_run == shown_rows
    assert any("energy losses" in ln and "MWh" in ln for ln in shown_rows)
    as_json = gridtwin("show", str(out), "--json")
    assert json.loads(as_json.stdout) == kpis


def test_run_by_name_with_until_and_seed(tmp_path):
    out = tmp_path / "short"
    proc = gridtwin("run", "mv-rural-day", "--until", "1h", "--seed", "3", "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "kpis.json").read_text())["run"]["steps"] == 4
    assert "seed: 3" in (out / "scenario.yaml").read_text()
    assert "duration: 1h" in (out / "scenario.yaml").read_text()


def test_default_run_dir_under_runs(tmp_path, repo):
    proc = gridtwin(
        "run", str(repo / "scenarios" / "mv-rural-day.yaml"), "--until", "30min", "-q", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.startswith("mv-rural-day-")
    assert (run_dir / "kpis.json").is_file()


def test_bad_input_exit_2_one_line(tmp_path):
    cases = [
        (["run", str(tmp_path / "missing.yaml")], "missing.yaml: no such file"),
        (
            ["run", "mv-rural-day", "--until", "7min"],
            "--until: got '7min'; expected a positive multiple",
        ),
        (["run", "mv-rural-day", "--engine", "matpower"], "--engine: got 'matpower'"),
        (["show", str(tmp_path)], "no kpis.json and no tables here"),
        (["report", str(tmp_path / "nope")], "no such directory"),
        (["compare", str(tmp_path)], "expected two or more"),
    ]
    for args, fragment in cases:
        proc = gridtwin(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert fragment in proc.stderr


def test_scenarios_lists_shipped_ones(repo):
    proc = gridtwin("scenarios")  # stdout is a pipe here, as in `gridtwin scenarios | grep`
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    shipped = sorted(p.stem for p in (repo / "scenarios").glob("*.yaml"))
    assert [ln.split()[0] for ln in lines] == shipped  # one line per scenario, never wrapped
    assert any(ln.startswith("mv-rural-year ") and "full year" in ln for ln in lines)


def test_validate_ok(repo):
    proc = gridtwin("validate", str(repo / "scenarios" / "mv-rural-year.yaml"))
    assert proc.returncode == 0, proc.stderr
    assert "ok: mv-rural-year: 35136 steps" in proc.stdout
    assert len(proc.stdout.splitlines()) == 1  # one line, also when piped


def test_help_explains_every_command():
    for cmd in ("run", "validate", "scenarios", "show"):
        proc = gridtwin(cmd, "--help")
        assert proc.returncode == 0
        assert "Usage" in proc.stdout
    run_help = gridtwin("run", "--help").stdout
    for option in ("--out", "--seed", "--until", "--engine", "--no-report"):
        assert option in run_help
    assert "<bool>" not in run_help  # a flag takes no value
    reconfigure_help = gridtwin("reconfigure", "--help").stdout
    assert "seconds" in reconfigure_help and "budget ." not in reconfigure_help
    replay_help = " ".join(gridtwin("influx-replay", "--help").stdout.split())
    assert "default: gridtwin" in replay_help and "scenario's" not in replay_help
    top = gridtwin("--help").stdout
    for cmd in ("run", "validate", "scenarios", "show", "report", "compare", "reconfigure"):
        assert cmd in top


def test_cli_imports_no_heavy_module_for_help_show_scenarios():
    """--help, show and scenarios import only what they need (no pandapower, mosaik, ...)."""
    code = (
        "import sys\n"
        "from gridtwin.cli import app\n"
        "heavy = ('pandapower', 'mosaik', 'power_grid_model', 'sklearn', 'pvlib', 'simbench',"
        " 'bokeh', 'pandas')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_reconfigure_weights_example_is_whole_and_works():
    """The --weights example is never broken inside (any width) and parses as written."""
    import os
    import re

    from gridtwin.controllers.reconfig import Objective, Weights
    from gridtwin.controllers.reconfig.io import parse_weights

    for columns in ("60", "80", "200"):
        proc = subprocess.run(
            [sys.executable, "-m", "gridtwin", "reconfigure", "--help"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "COLUMNS": columns},
        )
        examples = re.findall(r"e\.g\.\s+'([^']*)'", proc.stdout)
        assert len(examples) == 1 and " " not in examples[0], (columns, examples)
    base = Weights.for_objective(Objective("losses"))
    weights = parse_weights(examples[0], base)
    assert weights != base  # the example changes the prices
