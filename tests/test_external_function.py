"""External automation functions: mosaik simulators in processes of their own, in a scenario.

::

    Sensors, Scada ──view ports, JSON wire form──► external process (cmd: or connect:)
    Channel ◄──time-shifted, checked commands (JSON)──┘ ──► Grid
                 rejected ──► command_rejected table, kpis.json functions_external
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import gridtwin
from gridtwin.errors import InputError
from gridtwin.scenario import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
PROBE = Path(__file__).resolve().parent / "external_probe.py"
EXTERNAL = ROOT / "scenarios/mv-rural-external.yaml"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def test_external_function_by_cmd_acts_like_the_same_rule_in_process(tmp_path: Path) -> None:
    """The shipped scenario: the JSON export limiter equals examples/peak_shaving.py in-process."""
    external = gridtwin.run(load_scenario(EXTERNAL), out_dir=tmp_path / "external")
    inproc = gridtwin.run(
        load_scenario(ROOT / "scenarios/mv-rural-peak-shaving.yaml"), out_dir=tmp_path / "inproc"
    )
    commands = external.table("command")
    assert set(commands["source"]) == {"export_limiter"}
    assert set(commands["target"]) == {"sgen_p_limit_mw"}
    assert (commands["status"] == "applied").all()
    assert (commands["arrival_s"] - commands["sim_time_s"] >= 900).all()  # one step later
    reference = inproc.table("command")
    cols = ["sim_time_s", "target", "n_elements", "arrival_s", "status"]
    pd.testing.assert_frame_equal(commands[cols], reference[cols])
    grid, grid_ref = external.table("grid"), inproc.table("grid")
    np.testing.assert_allclose(grid["ext_grid_p_mw"], grid_ref["ext_grid_p_mw"], atol=1e-6)
    # what the commands changed: the export stays far below the run without any function
    assert -grid["ext_grid_p_mw"].min() < 5.0
    sgen = external.table("sgen")
    limited = sgen[sgen["sim_time_s"] == commands["arrival_s"].iloc[0]]
    assert (limited["p_mw"] < limited["available_p_mw"] - 1e-6).any()
    kpis = json.loads((tmp_path / "external/kpis.json").read_text())
    assert kpis["functions_external"]["export_limiter.commands_rejected"] == 0
    assert kpis["functions_external"]["export_limiter.commands_accepted"] >= len(commands)
    assert (tmp_path / "external/function-export_limiter.log").is_file()


def test_external_function_by_connect(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "examples/external_function.py"),
            "--remote",
            f"127.0.0.1:{port}",
        ],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):  # a count, not a time budget
            if _listening(port) or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        data = yaml.safe_load(EXTERNAL.read_text())
        entry = data["functions"][0]
        del entry["cmd"]
        entry["connect"] = f"127.0.0.1:{port}"
        scenario = scenario_from_dict(data, source=str(EXTERNAL))
        result = gridtwin.run(scenario, out_dir=tmp_path / "run")
        assert proc.wait(timeout=60) == 0  # mosaik tells it to stop at the end
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    commands = result.table("command")
    assert len(commands) > 0 and (commands["status"] == "applied").all()
    assert set(commands["source"]) == {"export_limiter"}


def _probe_scenario(tmp_path: Path, send: dict, fail: bool = False) -> tuple[dict, Path]:
    dump = tmp_path / "views.jsonl"
    data = {
        "name": "probe",
        "seed": 1,
        "time": {"start": "2016-06-21T10:00:00+01:00", "duration": "1h", "step": "15min"},
        "grid": {"simbench": "1-MV-rural--0-sw"},
        "measurements": {
            "plan": [
                {"device": "scada", "at": "substation"},
                {"device": "scada", "at": "every_nth_bus", "n": 8},
                {"device": "smart_meter", "at": "sgens"},
            ]
        },
        "events": [
            {
                "at": "15min",
                "type": "bad_data",
                "target": "scada:vm_pu:MV1.101 Bus 40",
                "k_sigma": 20,
                "duration": "30min",
            }
        ],
        "functions": [
            {
                "name": "probe",
                "cmd": f"%(python)s {PROBE} %(addr)s" + (" --fail" if fail else ""),
                "reads": ["measurement_frame", "telemetry", "reported_trafo_tap_pos"],
                "model": "Probe",
                "params": {"dump": str(dump), "send": send},
            }
        ],
    }
    return data, dump


TAP = "HV1-MV1.101-Trafo1"
SGEN = "MV1.101 SGen 1"  # 2 MVA (times sgen_scale 1)


def _cmd(issued_s: int, target: str, elements: list, values: list) -> dict:
    return {"issued_s": issued_s, "target": target, "elements": elements, "values": values}


def test_bad_commands_are_rejected_counted_and_recorded_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    send = {
        "900": [
            _cmd(900, "trafo_tap_pos", [TAP], [2]),  # good
            _cmd(900, "switch_closed", ["no such switch"], [1]),  # unknown_element
            _cmd(900, "breaker", [TAP], [1]),  # unknown_target
            _cmd(900, "trafo_tap_pos", [TAP], [99]),  # out_of_range
            _cmd(900, "sgen_q_set_mvar", [SGEN], [5.0]),  # out_of_range (2 MVA)
            _cmd(900, "trafo_tap_pos", [TAP], [1.5]),  # out_of_range (not whole)
            _cmd(900, "sgen_q_set_mvar", [SGEN], ["inf"]),  # non_finite (Python's JSON)
            _cmd(900, "trafo_tap_pos", [TAP], ["nan"]),  # non_finite
            _cmd(2700, "trafo_tap_pos", [TAP], [1]),  # bad_time: in the future
            {"target": "trafo_tap_pos"},  # malformed
            "hello",  # malformed
        ],
        "1800": [_cmd(1800, "sgen_q_set_mvar", [SGEN], [0.5])],  # good
        "2700": {"not": "a list"},  # malformed
    }
    data, _ = _probe_scenario(tmp_path, send)
    scenario = scenario_from_dict(data, source=str(tmp_path / "probe.yaml"))
    result = gridtwin.run(scenario, out_dir=tmp_path / "run")
    assert result.kpis["run"]["completed"]
    section = result.kpis["functions_external"]
    expected = {
        "unknown_element": 1,
        "unknown_target": 1,
        "out_of_range": 3,
        "non_finite": 2,
        "bad_time": 1,
        "malformed": 3,
    }
    assert {
        k.removeprefix("probe.rejected_"): v for k, v in section.items() if "rejected_" in k
    } == expected
    assert section["probe.commands_rejected"] == sum(expected.values())
    assert section["probe.commands_accepted"] == 2
    rejected = result.table("command_rejected")
    assert sorted(rejected["reason"].value_counts().items()) == sorted(expected.items())
    assert set(rejected["source"]) == {"probe"}
    assert set(rejected.loc[rejected["reason"] == "malformed", "sim_time_s"]) == {900, 2700}
    # the good ones reached the grid one step later, through the channel
    commands = result.table("command")
    assert list(commands["target"]) == ["trafo_tap_pos", "sgen_q_set_mvar"]
    assert list(commands["arrival_s"]) == [1800, 2700]
    assert (commands["status"] == "applied").all()
    trafo = result.table("trafo")
    taps = trafo[trafo["element"] == TAP].set_index("sim_time_s")["tap_pos"]
    assert taps[900] == 0 and taps[1800] == 2 and taps[2700] == 2
    sgen = result.table("sgen")
    q_mvar = sgen[sgen["element"] == SGEN].set_index("sim_time_s")["q_mvar"]
    assert q_mvar[1800] == 0.0 and q_mvar[2700] == pytest.approx(0.5)


def test_an_external_function_sees_the_view_as_json_and_never_the_truth(tmp_path: Path) -> None:
    data, dump = _probe_scenario(tmp_path, {})
    scenario = scenario_from_dict(data, source=str(tmp_path / "probe.yaml"))
    result = gridtwin.run(scenario, out_dir=tmp_path / "run")
    lines = [json.loads(line) for line in dump.read_text().splitlines()]
    init = lines[0]["init"]
    assert init["step_s"] == 900 and init["name"] == "probe"
    context = init["context"]
    assert context["elements"]["trafo"][0] == TAP
    names = context["measurement_names"]
    steps = lines[1:]
    assert [s["time"] for s in steps] == [0, 900, 1800, 2700]
    measured = result.table("measurement")
    for step in steps:
        frame = step["view"]["measurement_frame"]
        assert set(frame) == {"time_s", "value", "sigma", "valid"}  # no 'corrupted': testbed only
        rows = measured[measured["sim_time_s"] == step["time"]].set_index("element")
        values = np.array([np.nan if v is None else v for v in frame["value"]], dtype=float)
        np.testing.assert_array_equal(values, rows.loc[names, "value"].to_numpy(float))
        assert frame["valid"] == rows.loc[names, "valid"].astype(bool).tolist()
        telemetry = step["view"]["telemetry"]
        assert "sgen_terminal_vm_pu" not in telemetry  # a field device's own reading
        assert len(telemetry["sgen_p_mw"]) == len(context["elements"]["sgen"])
        assert step["view"]["reported_trafo_tap_pos"] == [0, 0]
    # the bad-data event corrupted a reading the function saw (as a measurement, unflagged)
    corrupted = measured[measured["corrupted"].astype(bool)]
    assert set(corrupted["sim_time_s"]) == {900, 1800}


def test_an_external_function_may_not_read_the_truth() -> None:
    data = yaml.safe_load(EXTERNAL.read_text())
    data["functions"][0]["reads"] = ["metered_load_p_mw", "result"]
    with pytest.raises(InputError) as err:
        scenario_from_dict(data, source=str(EXTERNAL))
    assert err.value.field == "functions[0].reads"
    assert "control-centre ports" in err.value.message


def _run_cli(scenario: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "gridtwin",
            "run",
            str(scenario),
            "--out",
            str(scenario.parent / "run"),
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("how", ["cmd_fails", "connect_to_nothing"])
def test_an_external_function_that_does_not_start_is_a_one_line_error(
    tmp_path: Path, how: str
) -> None:
    data, _ = _probe_scenario(tmp_path, {}, fail=how == "cmd_fails")
    entry = data["functions"][0]
    if how == "connect_to_nothing":
        del entry["cmd"]
        entry["connect"] = f"127.0.0.1:{_free_port()}"
    path = tmp_path / "probe.yaml"
    path.write_text(yaml.safe_dump(data))
    done = _run_cli(path)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, done.stderr
    field = "functions[0].cmd" if how == "cmd_fails" else "functions[0].connect"
    assert f"{path}: {field}: external function 'probe': " in lines[0]
    if how == "cmd_fails":
        assert "exited with status 1 before connecting" in lines[0]
        assert "told to fail" in lines[0]
    else:
        assert "Could not connect" in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"cmd": "python my_vc.py"}, "functions[0].cmd", "with %(addr)s"),
        ({"cmd": "python %(addr)s %(port)s"}, "functions[0].cmd", "only %-fields"),
        ({"connect": "localhost"}, "functions[0].connect", "should match pattern"),
        ({"name": None}, "functions[0]", "needs a name"),
        ({"use": "x.py:X"}, "functions[0]", "exactly one of use, cmd or connect"),
    ],
)
def test_bad_external_function_entries_name_the_field(
    change: dict, field: str, expected: str
) -> None:
    data = yaml.safe_load(EXTERNAL.read_text())
    entry = data["functions"][0]
    if "connect" in change:
        del entry["cmd"]
    entry.update(change)
    if entry.get("name") is None:
        del entry["name"]
    with pytest.raises(InputError) as err:
        scenario_from_dict(data, source=str(EXTERNAL))
    assert err.value.field == field, err.value
    assert expected in err.value.message


def test_an_external_function_reading_a_port_nothing_provides_is_an_input_error(
    tmp_path: Path,
) -> None:
    data = yaml.safe_load(EXTERNAL.read_text())
    data["functions"][0]["reads"] = ["estimate"]  # no estimation section
    scenario = scenario_from_dict(data, source=str(EXTERNAL))
    with pytest.raises(InputError) as err:
        gridtwin.run(scenario, out_dir=tmp_path / "run")
    assert err.value.field == "functions[0].reads"
    assert "got estimate, which nothing in this scenario provides" in err.value.message
