"""The malformed-input sweep: hundreds of generated bad scenarios and files through ``validate``.

::

    generated case ──► files in a temp folder ──► gridtwin validate (in-process, CliRunner)
                                                   └──► exit 2, one line: FILE: FIELD: ...

Every case is generated from the schema or the reader rules (no hand-written
list): each numeric field with each kind of bad number, each mapping with a
key given twice, each network parameter rule, each cell kind of the CSV
readers. A handful more go through the real command line in a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest
import yaml
from typer.testing import CliRunner

from gridtwin.cli import app
from gridtwin.grid.checks import RULES
from tests.conftest import base_scenario
from tests.malformed import (
    every_element_net,
    field_text,
    full_scenario,
    mapping_paths,
    net_mutations,
    numeric_paths,
    set_path,
    time_paths,
    yaml_with_duplicate,
)


@dataclass
class Case:
    """One malformed input: the files to write, the file and field the message must name."""

    name: str
    files: dict[str, str]
    bad_file: str
    field: str
    args: list[str] = field(default_factory=list)


def _yaml(data) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def _schema_cases() -> list[Case]:
    cases = []
    for k, path in enumerate(numeric_paths()):
        kinds = [("inf", ".inf"), ("bool", "true")] + ([("nan", ".nan")] if k % 3 == 0 else [])
        for label, value in kinds:
            data = set_path(full_scenario(), path, "__BAD__")
            text = _yaml(data).replace("__BAD__", value)
            cases.append(
                Case(f"{field_text(path)}={label}", {"s.yaml": text}, "s.yaml", field_text(path))
            )
    for key in mapping_paths(full_scenario()):
        text = yaml_with_duplicate(full_scenario(), key)
        cases.append(Case(f"dup {'.'.join(key)}", {"s.yaml": text}, "s.yaml", key[-1]))
    ordered = [
        (("measurements", "plan", 0, "active_until"), 0, "measurements.plan[0].active_until"),
        (("events", 0, "duration"), "0s", "events[0].duration"),
        (("voltage_control", "central", "interval"), "0s", "voltage_control.central.interval"),
        (("reconfiguration", "vm_max_pu"), 0.8, "reconfiguration.vm_max_pu"),
        (("flisr", "vm_max_pu"), 0.85, "flisr.vm_max_pu"),
        (("seed",), 2**32, "seed"),
        (("forecasting", "seed"), 2**40, "forecasting.seed"),
        (("time", "duration"), "100000d", "time.duration"),
        (("recording", "influx", "url"), "http://u:pw@host:99999", "recording.influx.url"),
        (("recording", "influx", "url"), "ftp://host", "recording.influx.url"),
    ]
    for path, value, name in ordered:
        text = _yaml(set_path(full_scenario(), path, value))
        cases.append(Case(f"{name}={value}", {"s.yaml": text}, "s.yaml", name))
    for path, value in time_paths():  # every duration and *_s field above its bound
        text = _yaml(set_path(full_scenario(), path, value))
        name = field_text(path)
        cases.append(Case(f"{name}={value}", {"s.yaml": text}, "s.yaml", name))
    return cases


def _net_case(name: str, net, field: str, engine: str = "pandapower") -> Case:
    grid = {"file": "net.json"} | ({"engine": engine} if engine else {})
    bad_file = "s.yaml" if not engine else "net.json"  # the engine's domain: grid.engine
    files = {"s.yaml": _yaml(base_scenario(grid=grid)), "net.json": pp.to_json(net)}
    return Case(name, files, bad_file, field)


def _net_cases() -> list[Case]:
    """Through a network file: every table-power-grid-model case, and the first parameter rule
    and bus reference of every table (reading a pandapower JSON file takes about 0.3 s; each
    rule and reference is checked in-process in tests/test_input_properties.py)."""
    # JSON has no inf: an optional column's only violation (inf) cannot be written
    unwritable = {f"net {t}.{c}" for t, c, kind, required in RULES if kind == "finite"}
    unwritable -= {f"net {t}.{c}" for t, c, kind, required in RULES if required}
    cases, seen = [], set()
    for name, net, where, engine in net_mutations(every_element_net()):
        kind = (where.split("[")[0], "=99999" in name, engine)
        if kind not in seen and name not in unwritable:
            seen.add(kind)
            cases.append(_net_case(name, net, where, engine))
    return cases


def _csv_cases() -> list[Case]:
    cases = []
    times = [f"2016-06-21T{h:02d}:{m:02d}:00+01:00" for h in range(2) for m in (0, 15, 30, 45)]
    scenario = _yaml(
        base_scenario(
            profiles={"files": [{"path": "p.csv", "element": "load", "quantity": "scaling"}]}
        )
    )
    for i, bad in enumerate(["inf", "-inf", "nan", "NaN", "Infinity", "1e999", "-0.5", "x"]):
        rows = ["time,1 [pu],2 [pu]"] + [f"{t},1.0,0.9" for t in times]
        row = 1 + i % len(times)
        rows[row] = f"{times[row - 1]},1.0,{bad}"
        files = {"s.yaml": scenario, "p.csv": "\n".join(rows) + "\n"}
        cases.append(Case(f"profile cell {bad}", files, "p.csv", f"2 [pu], row {row + 1}"))
    log_scenario = _yaml(
        base_scenario(
            measurements={"plan": [{"device": "scada", "at": "all_buses"}]},
            measurements_file="m.csv",
        )
    )
    for i, (column, bad) in enumerate(
        [("value", b) for b in ("inf", "-inf", "nan", "1e999")]
        + [("sigma", b) for b in ("inf", "nan", "0", "-1")]
    ):
        rows = ["at,measurement,value,sigma"]
        for n in range(1, 5):
            cells = {"value": "1.0", "sigma": "0.01"}
            if n == 1 + i % 4:
                cells[column] = bad
            rows.append(f"{(n - 1) * 15}min,scada:vm_pu:bus 1,{cells['value']},{cells['sigma']}")
        files = {"s.yaml": log_scenario, "m.csv": "\n".join(rows) + "\n"}
        cases.append(Case(f"log {column} {bad}", files, "m.csv", f"row {1 + i % 4}.{column}"))
    events = '[{"at": "30min", "type": "load_scale", "target": "all", "factor": NaN}]'
    files = {"s.yaml": _yaml(base_scenario(events_file="e.json")), "e.json": events}
    cases.append(Case("event log NaN", files, "e.json", "factor"))
    events = '[{"at": "30min", "type": "line_outage", "target": 1, "target": 2}]'
    files = {"s.yaml": _yaml(base_scenario(events_file="e.json")), "e.json": events}
    cases.append(Case("event log duplicate key", files, "e.json", "duplicate key 'target'"))
    return cases


CASES = _schema_cases() + _net_cases() + _csv_cases()


def test_the_sweep_is_large():
    assert len(CASES) >= 200, len(CASES)
    assert len(time_paths()) >= 30  # durations and waits of every section


def test_the_base_network_is_valid_as_a_whole(tmp_path):
    case = _net_case("base", every_element_net(), "")
    for name, text in case.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "s.yaml")])
    assert result.exit_code == 0, result.stderr


def test_the_base_scenario_is_valid_as_a_whole(tmp_path):
    """Each case differs from a scenario ``validate`` accepts in the one field it names, so a
    case refused after the schema stage (network, functions, run size) is refused for it."""
    (tmp_path / "s.yaml").write_text(_yaml(full_scenario()), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "s.yaml")])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ok: full: 8 steps of 900 s, 33 buses"), result.stdout


def test_malformed_sweep_through_validate(tmp_path, monkeypatch):
    """Every generated case: exit status 2 and one line naming the file and the field."""
    import typer.main
    import typer.testing

    command = typer.main.get_command(app)  # built once, not per case (half of a case's time)
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: command)
    runner = CliRunner()
    failures = []
    for i, case in enumerate(CASES):
        folder = tmp_path / f"c{i}"
        folder.mkdir()
        for name, text in case.files.items():
            (folder / name).write_text(text, encoding="utf-8")
        result = runner.invoke(app, ["validate", str(folder / "s.yaml"), *case.args])
        stderr = result.stderr.strip()
        expected = f"error: {folder / case.bad_file}: "
        ok = (
            result.exit_code == 2
            and len(stderr.splitlines()) == 1
            and stderr.startswith(expected)
            and case.field in stderr
            and "Traceback" not in stderr
            and "pw@" not in stderr
        )
        if not ok:
            failures.append(f"{case.name}: exit {result.exit_code}: {stderr or result.output}")
    assert not failures, "\n".join(failures[:20]) + f"\n({len(failures)} of {len(CASES)})"


SUBPROCESS_CASES = [
    ("time.step", ".inf", "time.step"),
    ("seed", "true", "seed"),
    ("profiles.load_scale", ".nan", "profiles.load_scale"),
    ("time.duration", "9855000d", "time.duration"),  # 27,000 years
]


@pytest.mark.parametrize(("path", "value", "field"), SUBPROCESS_CASES)
def test_real_command_line_exit_2(tmp_path, path, value, field):
    data = set_path(base_scenario(), tuple(path.split(".")), "__BAD__")
    file = tmp_path / "s.yaml"
    file.write_text(_yaml(data).replace("'__BAD__'", value), encoding="utf-8")
    for command in ("validate", "run") if path == "time.duration" else ("validate",):
        proc = subprocess.run(
            [sys.executable, "-m", "gridtwin", command, str(file), "--out", str(tmp_path / "r")]
            if command == "run"
            else [sys.executable, "-m", "gridtwin", command, str(file)],
            capture_output=True,
            text=True,
            check=False,
        )
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2, proc.stderr
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert lines[0].startswith(f"error: {file}: {field}"), lines[0]
    assert not (tmp_path / "r").exists()


def test_real_command_line_duplicate_section_and_bad_network(tmp_path):
    file = tmp_path / "s.yaml"
    file.write_text(yaml_with_duplicate(base_scenario(), ("time",)), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "gridtwin", "validate", str(file)], capture_output=True, text=True
    )
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {file}: time: given twice")
    net = pn.case33bw()
    net.line.loc[0, "length_km"] = -2.5
    (tmp_path / "net.json").write_text(pp.to_json(net), encoding="utf-8")
    file.write_text(_yaml(base_scenario(grid={"file": "net.json"})), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "gridtwin", "run", str(file), "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        f"error: {Path(tmp_path) / 'net.json'}: line[0].length_km: got -2.5; "
        "expected a finite value above 0"
    )
