"""The command channel in a run: comms_loss, loss and latency treat every function alike.

Short in-process runs of ``mv-rural-all-functions`` (reconfiguration, FLISR,
voltage control) with the worked example ``peak_shaving`` as a user's
function; the ``command`` table is read back and every row checked against
the channel's rules: a command decided at ``t`` enters the channel one step
later, is dropped while a ``comms_loss`` lasts then, arrives at the first
step at or after ``t + max(step, latency)`` and is ``late`` if that is after
the run. What arrived is ``applied`` when it changed the grid: the switch
table changes exactly where switch commands were applied (and where
protection tripped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from gridtwin.scenario import load_scenario, scenario_from_dict
from gridtwin.world import run_scenario

ROOT = Path(__file__).parents[1]
STEP_S = 900
FAULT_S = 900
PEAK_SHAVING = {
    "use": "../examples/peak_shaving.py:PeakShaving",
    "name": "peak_shaving",
    "params": {"export_limit_mw": 0.1},  # exports above it at night too: a command every step
}
ARRIVED = {"applied", "no_change"}


def _run(tmp_path: Path, comms_loss: tuple[str, str], **changes: Any) -> tuple[pd.DataFrame, Path]:
    path = ROOT / "scenarios" / "mv-rural-all-functions.yaml"
    data = load_scenario(path).model_dump(mode="json")
    data["time"]["duration"] = "3h"
    at, duration = comms_loss
    data["events"] = [
        {"at": at, "type": "comms_loss", "target": "all", "duration": duration},
        {"at": f"{FAULT_S}s", "type": "line_fault", "target": "MV1.101 Line 6", "permanent": 1},
    ]
    data["functions"] = [PEAK_SHAVING]
    data.update(changes)
    result = run_scenario(scenario_from_dict(data, source=str(path)), out_dir=tmp_path / "run")
    commands = pd.read_parquet(result.run_dir / "command.parquet")
    assert (commands["sim_time_s"] == commands["issued_s"]).all()  # recorded at its issue time
    assert commands["command_id"].is_unique
    return commands, result.run_dir


def _arrival_s(issued_s: int, latency_s: int, local: bool) -> int:
    delay = STEP_S if local else max(STEP_S, latency_s)
    return -(-(issued_s + delay) // STEP_S) * STEP_S


def _check_took_effect(commands: pd.DataFrame, run_dir: Path) -> None:
    """Switches moved exactly at protection's trip and where a switch command was applied."""
    switch = pd.read_parquet(run_dir / "switch.parquet")
    moved = set(switch.loc[switch["sim_time_s"] > 0, "sim_time_s"])
    orders = commands[commands["target"] == "switch_closed"]
    applied = set(orders.loc[orders["status"] == "applied", "arrival_s"])
    assert applied, "no switch command took effect"
    assert applied <= moved
    assert moved <= applied | {FAULT_S}


def test_comms_loss_drops_every_functions_commands_and_latency_delays_them(tmp_path: Path):
    latency_s, loss_until_s, end_s = 1200, 3600, 3 * 3600
    commands, run_dir = _run(tmp_path, ("0s", f"{loss_until_s}s"), commands={"latency": "20min"})
    dropped = commands["status"] == "dropped_comms"
    assert set(commands.loc[dropped, "source"]) == {
        "reconfiguration",
        "flisr",
        "voltage_control",
        "peak_shaving",
    }
    assert not commands["local"].any()
    for row in commands.itertuples(index=False):
        in_window = row.issued_s + STEP_S < loss_until_s  # it enters the channel a step later
        expected = _arrival_s(row.issued_s, latency_s, row.local)
        if in_window:
            assert (row.status, row.arrival_s) == ("dropped_comms", -1), row
        elif expected >= end_s:
            assert (row.status, row.arrival_s) == ("late", -1), row
        else:
            assert row.status in ARRIVED and row.arrival_s == expected, row
            assert row.arrival_s == row.issued_s + 2 * STEP_S  # 20 min: two 15-min steps
    assert (commands["status"] == "late").any()
    # FLISR retried after the link came back, and that order took effect
    flisr = commands[commands["source"] == "flisr"]
    assert "applied" in set(flisr["status"])
    _check_took_effect(commands, run_dir)


def test_loss_probability_loses_telecontrol_commands_not_local_ones(tmp_path: Path) -> None:
    loss_from_s, loss_until_s = 3600, 5400
    commands, run_dir = _run(
        tmp_path,
        (f"{loss_from_s}s", f"{loss_until_s - loss_from_s}s"),
        commands={"loss_probability": 0.5},
        voltage_control={"local": {"preset": "ieee1547_b"}},  # the inverters' own curves
    )
    local = commands[commands["local"]]
    assert len(local) and set(local["source"]) == {"voltage_control"}
    assert set(local["status"]) <= ARRIVED
    assert (local["arrival_s"] == local["issued_s"] + STEP_S).all()
    remote = commands[~commands["local"]]
    entry = remote["issued_s"] + STEP_S
    in_window = (entry >= loss_from_s) & (entry < loss_until_s)
    assert set(remote.loc[in_window, "status"]) == {"dropped_comms"}
    outside = remote[~in_window]
    assert {"lost", "applied"} <= set(outside["status"])
    assert set(outside["status"]) <= ARRIVED | {"lost"}
    lost = outside["status"] == "lost"
    assert (outside.loc[lost, "arrival_s"] == -1).all()
    arrived = outside[~lost]
    assert (arrived["arrival_s"] == arrived["issued_s"] + STEP_S).all()
    assert set(commands.loc[commands["status"] == "lost", "source"]) >= {"peak_shaving"}
    _check_took_effect(commands, run_dir)
