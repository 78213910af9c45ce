"""Every gridtwin simulator in a process of its own, in a stock mosaik world.

::

    Profiles (cmd:) ──load/sgen/storage powers──► Grid (cmd:) ──result, positions──► Scada (cmd:)
         scenario=PATH                          scenario=PATH, wire=tagged         scenario=PATH
                                                     │ bus_vm_pu                      │ telemetry
                                                     └──────────────► Collector ◄──────┘

A remote simulator takes a scenario file instead of the objects gridtwin's
own world hands it, and moves values as tagged JSON that the next gridtwin
simulator decodes into the same objects.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import mosaik
import mosaik_api_v3
import numpy as np
import pytest
import yaml

import gridtwin
from gridtwin.errors import InputError
from gridtwin.registry import SIM_CONFIG
from gridtwin.remote import scenario_starts, start_params
from gridtwin.scenario import load_scenario, scenario_from_dict
from gridtwin.simulators.remote import decode, encode

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
IN_PROCESS_ONLY = {"Recorder", "Reliability", "BusPublish", "BusCommands"}
BUS = {"BusPublish", "BusCommands"}
"""The process-bus bridge: only with an ``mqtt`` section (not in the all-functions scenario)."""
SIMS = {n: c for n, c in SIM_CONFIG.items() if str(c.get("python", "")).startswith("gridtwin.")}
"""gridtwin's own simulators (a test may have added one of its own to a world's config)."""


def _module(name: str) -> str:
    return str(SIMS[name]["python"]).partition(":")[0]  # type: ignore[typeddict-item]


def test_every_simulator_module_has_a_main_for_its_own_process() -> None:
    for name in SIMS:
        path = ROOT / "src" / (_module(name).replace(".", "/") + ".py")
        tree = ast.parse(path.read_text())
        mains = [
            n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)
        ]
        assert len(mains) == 1, name
        text = ast.unparse(mains[0])
        if name in IN_PROCESS_ONLY:
            assert "refuse(" in text, name
        elif name == "Grid":
            assert "main()" in text, name
        else:
            assert f"main({name!r})" in text, name


@pytest.mark.parametrize("name", sorted(IN_PROCESS_ONLY))
def test_in_process_only_simulators_say_so_and_exit(name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", _module(name), "127.0.0.1:9"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {_module(name)} cannot run as a process of its own:")
    assert len(done.stderr.strip().splitlines()) == 1


def test_start_params_of_every_simulator_come_from_a_scenario_file() -> None:
    """From the all-functions scenario, each simulator gets what gridtwin's world gives it."""
    import importlib

    found = scenario_starts(str(ROOT / "scenarios/mv-rural-all-functions.yaml"))
    names = {name for name, _ in found.starts}
    assert names == set(SIMS) - {"Function"} - BUS
    for name, params in found.starts:
        if name in IN_PROCESS_ONLY:
            continue
        module, _, cls_name = str(SIMS[name]["python"]).partition(":")  # type: ignore[typeddict-item]
        sim = getattr(importlib.import_module(module), cls_name)()
        meta = sim.init(f"{name}-0", 1.0, **params)
        assert meta["models"], name
    peak = ROOT / "scenarios/mv-rural-peak-shaving.yaml"
    function = start_params(str(peak), "Function", function="peak_shaving")["function"]
    assert type(function).__name__ == "PeakShaving"
    assert function.params.export_limit_mw == 4.0
    with pytest.raises(InputError) as err:
        start_params(str(peak), "Estimator")
    assert err.value.field == "scenario"
    assert "starts Estimator 0 time(s)" in err.value.message


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        )
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            _same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and np.isnan(a):
        return isinstance(b, float) and np.isnan(b)
    return (bool(a == b) and type(a) is type(b)) or (isinstance(a, np.generic) and a.item() == b)


def test_every_output_of_every_simulator_survives_the_tagged_json_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All functions, a fault and bad data: each value any simulator gives crosses JSON intact."""
    import importlib

    seen: dict[str, int] = {}
    for name in SIMS:
        module, _, cls_name = str(SIMS[name]["python"]).partition(":")  # type: ignore[typeddict-item]
        cls = getattr(importlib.import_module(module), cls_name)

        def get_data(self: Any, outputs: Any, _orig: Any = cls.get_data, _name: str = name) -> Any:
            data = _orig(self, outputs)
            back = decode(json.loads(json.dumps(encode(data))))
            assert _same(data, back), _name
            seen[_name] = seen.get(_name, 0) + 1
            return data

        monkeypatch.setattr(cls, "get_data", get_data)
    data = load_scenario(ROOT / "scenarios/mv-rural-all-functions.yaml").model_dump(mode="json")
    data["time"]["duration"] = "3h"
    data["events"] = [
        {"at": "30min", "type": "bad_data", "target": "scada:vm_pu:MV1.101 Bus 40", "k_sigma": 20},
        {"at": "1h", "type": "line_fault", "target": "MV1.101 Line 6", "permanent": 1},
        {"at": "2h", "type": "repair", "target": "MV1.101 Line 6"},
    ]
    scenario = scenario_from_dict(data, source=str(ROOT / "scenarios/x.yaml"))
    gridtwin.run(scenario, out_dir=tmp_path / "run")
    # gridtwin's own grid reads its profiles itself (Profiles runs in stock worlds, tested
    # below); the process-bus bridge runs only with an mqtt section
    providers = set(SIMS) - {"Recorder", "Reliability", "Function", "Profiles"} - BUS
    assert providers <= set(seen), providers - set(seen)


class Collector(mosaik_api_v3.Simulator):
    """Keeps what it receives, decoded (a stock world's sink)."""

    seen: ClassVar[list[tuple[int, dict[str, Any]]]] = []

    def __init__(self) -> None:
        super().__init__(
            {
                "api_version": "3.0",
                "type": "time-based",
                "models": {
                    "Collector": {
                        "public": True,
                        "params": [],
                        "attrs": ["bus_vm_pu", "telemetry", "metered_load_p_mw"],
                    }
                },
            }
        )

    def create(self, num: int, model: str, **params: Any) -> list[dict]:
        return [{"eid": "c", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int) -> int:
        values = {a: decode(next(iter(v.values()))) for a, v in inputs["c"].items()}
        Collector.seen.append((time, values))
        return time + 900

    def get_data(self, outputs: dict) -> dict:
        return {}


def test_profiles_grid_and_scada_by_cmd_in_a_stock_mosaik_world(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "scenarios/mv-rural-day.yaml").read_text())
    data["time"]["duration"] = "1h"
    path = tmp_path / "day.yaml"
    path.write_text(yaml.safe_dump(data))
    sys.modules.setdefault("remote_sims_test", sys.modules[__name__])
    config: dict[str, Any] = {
        name: {"cmd": f"%(python)s -m {_module(name)} %(addr)s"}
        for name in ("Profiles", "Grid", "Scada")
    }
    config["Collector"] = {"python": "remote_sims_test:Collector"}
    Collector.seen.clear()
    world = mosaik.World(config, mosaik_config={"start_timeout": 120}, skip_greetings=True)
    try:
        profiles = world.start("Profiles", scenario=str(path)).Profiles()
        grid = world.start("Grid", scenario=str(path), wire="tagged").Grid()
        scada = world.start("Scada", scenario=str(path)).Scada()
        sink = world.start("Collector").Collector()
        powers = ("load_p_mw", "load_q_mvar", "sgen_p_mw", "sgen_q_mvar", "storage_p_mw")
        world.connect(profiles, grid, *powers)
        world.connect(
            grid,
            scada,
            "result",
            "switch_closed",
            "line_in_service",
            "trafo_tap_pos",
            "fault_passed",
            "sgen_available_p_mw",
        )
        world.connect(grid, sink, "bus_vm_pu")
        world.connect(scada, sink, "telemetry", "metered_load_p_mw")
        world.run(until=3600)
    finally:
        world.shutdown()
    reference = gridtwin.run(load_scenario(path), out_dir=tmp_path / "ref")
    bus, load = reference.table("bus"), reference.table("load")
    assert [t for t, _ in Collector.seen] == [0, 900, 1800, 2700]
    for time_s, values in Collector.seen:
        expected = bus[bus["sim_time_s"] == time_s]["vm_pu"].to_numpy()
        np.testing.assert_allclose(values["bus_vm_pu"], expected, rtol=0, atol=1e-12)
        truth = load[load["sim_time_s"] == time_s]["p_mw"].to_numpy()
        metered = values["metered_load_p_mw"]
        assert isinstance(metered, np.ndarray) and metered.shape == truth.shape
        np.testing.assert_allclose(metered, truth, rtol=0.05, atol=1e-6)  # 1 % meters
        telemetry = values["telemetry"]
        assert type(telemetry).__name__ == "Telemetry"
        np.testing.assert_array_equal(telemetry.load_p_mw, metered)
