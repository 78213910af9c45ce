"""Malformed scenarios: each gives one line naming file, field and expectation."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest

from gridtwin.errors import InputError
from gridtwin.scenario import load_scenario
from gridtwin.world import prepare
from tests.conftest import base_scenario


def _with(path: str, value):
    data = base_scenario()
    node = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return data


_DELETE = object()

# (scenario dict, expected fragment of the one-line message)
CASES = [
    (_with("time.stepp", "15min"), "time.stepp: unknown key; did you mean 'step'?"),
    (_with("tme", {}), "tme: unknown key; did you mean 'time'?"),
    (_with("time.step", "15 minutes"), "time.step: got '15 minutes'; expected a duration"),
    (_with("time.step", "0s"), "time.step: got '0s'; expected a step longer than zero"),
    (
        _with("time.duration", "1h10min"),
        "time.duration: 70min is not a whole number of steps of 15min",
    ),
    (
        _with("time.start", "2016-06-21T00:00:00"),
        "time.start: got '2016-06-21T00:00:00'; expected a time zone",
    ),
    (_with("time.start", "yesterday"), "time.start: got 'yesterday'; expected an ISO 8601"),
    (_with("time.start", _DELETE), "time.start: missing"),
    (_with("grid", {}), "grid: got no source; expected exactly one of simbench, pandapower, file"),
    (
        _with("grid", {"pandapower": "case33bw", "simbench": "1-MV-rural--0-sw"}),
        "expected exactly one of",
    ),
    (
        _with("grid.engine", "matpower"),
        "grid.engine: got 'matpower'; expected 'power-grid-model' or 'pandapower'",
    ),
    (
        _with("grid.pandapower", "case33"),
        "grid.pandapower: got 'case33'; expected a pandapower.networks function (did you mean",
    ),
    (
        _with("grid", {"simbench": "1-MV-rural--9-sw"}),
        "grid.simbench: got '1-MV-rural--9-sw'; expected a SimBench code (did you mean",
    ),
    (
        _with("profiles.interpolation", "cubic"),
        "profiles.interpolation: got 'cubic'; expected 'hold', 'linear' or 'mean'",
    ),
    (
        _with("profiles.load_scale", -1),
        "profiles.load_scale: got -1; expected greater than or equal to 0",
    ),
    (
        _with("profiles.source", "simbench"),
        "profiles.source: simbench profiles need a SimBench grid",
    ),
    (_with("seed", "abc"), "seed: got 'abc'; expected a valid integer"),
    (_with("name", "has space"), "name: got 'has space'; expected letters, digits"),
    (
        _with("events", [{"at": "1h", "type": "switch_opn", "target": 0}]),
        "events[0].type: got 'switch_opn'; unknown event type (did you mean 'switch_open'?)",
    ),
    (
        _with("events", [{"at": "1h", "type": "load_scale", "target": 0}]),
        "events[0].factor: missing; load_scale needs a scaling factor",
    ),
    (
        _with("events", [{"at": "1h", "type": "load_scale", "target": 0, "factr": 2}]),
        "events[0].factr: not a parameter of load_scale (did you mean 'factor'?)",
    ),
    (
        _with("events", [{"at": "1h", "type": "line_outage", "target": 999}]),
        "events[0].target: got 999; no line has index 999",
    ),
    (
        _with("events", [{"at": "1h", "type": "line_outage", "target": "Line X"}]),
        "events[0].target: got 'Line X'; no line of that name",
    ),
    (
        _with("events", [{"at": "5h", "type": "line_outage", "target": 3}]),
        "events[0].at: got '5h', outside the run",
    ),
    (
        _with("events", [{"at": "10min", "type": "line_outage", "target": 3}]),
        "events[0].at: got '10min'; expected a multiple of time.step",
    ),
    (
        _with("events", [{"at": "1h", "type": "switch_open", "target": "all"}]),
        "events[0].target: got 'all'; expected one switch",
    ),
    (
        _with("recording.flush_every_steps", 0),
        "recording.flush_every_steps: got 0; expected greater than 0",
    ),
    # issue 17: non-finite numbers, booleans for numbers, ordered pairs, library domains
    (_with("profiles.load_scale", float("inf")), "profiles.load_scale: got inf; expected a finite"),
    (_with("profiles.sgen_scale", float("nan")), "profiles.sgen_scale: got nan; expected a finite"),
    (_with("time.real_time_factor", float("inf")), "time.real_time_factor: got inf; expected"),
    (_with("time.step", float("inf")), "time.step: got inf; expected a finite duration"),
    (_with("seed", True), "seed: got True; expected a number, not true/false"),
    (_with("seed", 2**32), "seed: got 4294967296; expected less than or equal to 4294967295"),
    (
        _with("events", [{"at": "1h", "type": "load_scale", "target": 0, "factor": float("nan")}]),
        "events[0].factor: got nan; expected a finite number",
    ),
    (
        _with("events", [{"at": "1h", "type": "line_outage", "target": 3, "duration": "0s"}]),
        "events[0].duration: got '0s'; expected a duration longer than zero",
    ),
    (
        _with(
            "measurements",
            {
                "plan": [
                    {
                        "device": "scada",
                        "at": "substation",
                        "active_from": "1h",
                        "active_until": "30min",
                    }
                ]
            },
        ),
        "measurements.plan[0].active_until: got 30min; expected later than active_from (1h)",
    ),
    (
        _with("measurements", {"seed": 2**40, "plan": [{"device": "scada", "at": "substation"}]}),
        "measurements.seed: got 1099511627776; expected less than or equal to 4294967295",
    ),
    (
        _with("voltage_control", {"central": {"interval": "0s"}}),
        "voltage_control.central.interval: got '0s'; expected a duration longer than zero",
    ),
    (
        _with("recording.influx", {"url": "localhost:8086"}),
        "recording.influx.url: got 'localhost:8086'; expected a URL like http://localhost:8086",
    ),
    (
        _with("recording.influx", {"url": "http://admin:hunter2@h:99999"}),
        "recording.influx.url: got 'http://admin:***@h:99999'; expected a URL like",
    ),
    (
        _with("time.duration", "9855000d"),
        "time.duration: 9855000d at 15min is 946,080,000 steps and would end after 2262",
    ),
    (
        _with("recording.influx", {"url": "http://h:8086", "timeout_s": 1e12}),
        "recording.influx.timeout_s: got 1000000000000.0; expected less than or equal to 86400",
    ),
    (
        _with("commands", {"latency": "106752d"}),
        "commands.latency: got 106752d; expected at most 106751d (about 292 years",
    ),
    (
        _with("time.duration", "3000d"),
        "time.duration: 3000d at 15min is 288,000 steps; expected at most limits.max_steps = "
        "100,000 (raise it, set limits.force: true or pass --force to run anyway)",
    ),
    (
        _with("limits.max_store_gb", 1e-6),
        "time.duration: 8 steps on this network would record about 0.0 GB; expected at most "
        "limits.max_store_gb = 1e-06 GB",
    ),
]
CASES[-2][0]["limits"] = {"max_steps": 100_000}


@pytest.mark.parametrize(("data", "fragment"), CASES, ids=[c[1][:40] for c in CASES])
def test_malformed_scenario_message(write_scenario, data, fragment):
    path = write_scenario(copy.deepcopy(data))
    with pytest.raises(InputError) as info:
        prepare(load_scenario(path))
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert fragment in message, message
    assert "\n" not in message


def test_not_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("time: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML"):
        load_scenario(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_scenario(tmp_path / "nope.yaml")


def test_cli_validate_exit_2_one_line(write_scenario):
    path = write_scenario(_with("time.stepp", "15min"))
    proc = subprocess.run(
        [sys.executable, "-m", "gridtwin", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert lines[0] == (
        f"error: {path}: time.stepp: unknown key; did you mean 'step'? expected one of "
        "start, duration, step, real_time_factor"
    )


def test_defaults_filled_in_dump(write_scenario):
    from gridtwin.scenario import dump_scenario

    text = dump_scenario(load_scenario(write_scenario(base_scenario())))
    assert "interpolation: hold" in text
    assert "engine: power-grid-model" in text
    assert "source: none" in text
    assert "step: 15min" in text


def test_force_lets_a_run_above_the_limits_through(write_scenario):
    from typer.testing import CliRunner

    from gridtwin.cli import app

    data = _with("time.duration", "3000d")
    data["limits"] = {"max_steps": 100_000}
    path = write_scenario(data)
    refused = CliRunner().invoke(app, ["validate", str(path)])
    assert refused.exit_code == 2 and "pass --force" in refused.stderr
    forced = CliRunner().invoke(app, ["validate", str(path), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "288000 steps" in forced.output
    data["limits"]["force"] = True
    assert CliRunner().invoke(app, ["validate", str(write_scenario(data))]).exit_code == 0
