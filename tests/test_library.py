"""Library use: a user's function from examples/, a user's own mosaik simulator, Run tables.

::

    Grid ──truth──► Scada ──metered powers, DER telemetry──► PeakShaving (examples/)
     ▲                                                          │ commands
     └──────────── Channel ◄─────────── (time-shifted) ─────────┘
    Scada ──metered_load_p_mw──► LoadLogger (a user's mosaik simulator, added to build_world)
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, ClassVar

import mosaik_api_v3
import numpy as np
import pytest

import gridtwin
from gridtwin.errors import InputError
from gridtwin.scenario import load_scenario, scenario_from_dict

ROOT = Path(__file__).parents[1]


class LoadLogger(mosaik_api_v3.Simulator):
    """A user's mosaik simulator: keeps the metered total load it is given."""

    seen: ClassVar[list[tuple[int, float]]] = []

    def __init__(self) -> None:
        super().__init__(
            {
                "api_version": "3.0",
                "type": "time-based",
                "models": {"Logger": {"public": True, "params": [], "attrs": ["load_mw"]}},
            }
        )

    def create(self, num: int, model: str, **params: Any) -> list[dict]:
        return [{"eid": "logger", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int) -> int:
        value = next(iter(inputs["logger"]["load_mw"].values()))
        LoadLogger.seen.append((time, float(np.nansum(value))))
        return time + 900


def test_peak_shaving_example_limits_the_export(tmp_path: Path) -> None:
    base = load_scenario(ROOT / "scenarios/mv-rural-peak-shaving.yaml")
    with_fn = gridtwin.run(base, out_dir=tmp_path / "with")
    data = base.model_dump(mode="json", exclude={"functions"})
    plain = scenario_from_dict(data, source=str(ROOT / "scenarios/x.yaml"))
    without = gridtwin.run(plain, out_dir=tmp_path / "without")
    grid_with, grid_without = with_fn.table("grid"), without.table("grid")
    export_with = -grid_with["ext_grid_p_mw"].min()
    export_without = -grid_without["ext_grid_p_mw"].min()
    assert export_without > 6.0  # the sunny midday without the function
    assert export_with < export_without - 2.0
    commands = with_fn.table("command")
    assert set(commands["source"]) == {"peak_shaving"}
    assert set(commands["target"]) == {"sgen_p_limit_mw"}
    assert (commands["arrival_s"] - commands["sim_time_s"] >= 900).all()  # one step later
    assert (commands["status"] == "applied").all()


def test_a_function_that_reads_truth_is_refused(tmp_path: Path) -> None:
    module = tmp_path / "cheat.py"
    module.write_text(
        "from gridtwin.controllers.function import AutomationFunction\n"
        "class Cheat(AutomationFunction):\n"
        "    reads = ('result',)\n"
    )
    data = load_scenario(ROOT / "scenarios/mv-rural-peak-shaving.yaml").model_dump(mode="json")
    data["functions"] = [{"use": "cheat.py:Cheat"}]
    scenario = scenario_from_dict(data, source=str(tmp_path / "s.yaml"))
    with pytest.raises(InputError) as err:
        gridtwin.world.prepare(scenario)
    assert err.value.field == "functions[0].use"
    assert "control-centre ports" in str(err.value)


def test_a_users_mosaik_simulator_joins_the_world(tmp_path: Path) -> None:
    sys.modules.setdefault("user_sims", sys.modules[__name__])
    scenario = load_scenario(ROOT / "scenarios/mv-rural-day.yaml")
    built = gridtwin.build_world(scenario, out_dir=tmp_path / "run")
    built.world.sim_config["LoadLogger"] = {"python": f"{__name__}:LoadLogger"}
    logger = built.world.start("LoadLogger").Logger()
    entity, attr = built.ports["metered_load_p_mw"]
    built.world.connect(entity, logger, (attr, "load_mw"))
    LoadLogger.seen.clear()
    result = built.run()
    assert len(LoadLogger.seen) == scenario.n_steps
    truth = gridtwin.Run.open(result.run_dir).table("grid")["load_p_mw"].to_numpy()
    metered = np.array([v for _, v in LoadLogger.seen])
    assert np.allclose(metered, truth, rtol=0.01)  # 1 % meters
    assert not np.allclose(metered, truth, rtol=1e-9)


def test_a_run_leaves_global_logging_as_it_was(tmp_path: Path) -> None:
    from loguru import logger

    root_handlers = list(logging.getLogger().handlers)
    gridtwin_level = logging.getLogger("gridtwin").level
    pgm_io_level = logging.getLogger("power_grid_model_io").level
    marker = logger.add(lambda m: None)
    gridtwin.run(ROOT / "scenarios/mv-rural-day.yaml", out_dir=tmp_path / "run")
    assert logging.getLogger().handlers == root_handlers
    assert logging.getLogger("gridtwin").level == gridtwin_level
    assert logging.getLogger("power_grid_model_io").level == pgm_io_level
    logger.remove(marker)  # still there: the run removed only its own handler
