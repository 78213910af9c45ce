"""Library use: a user's function from examples/, a user's own mosaik simulator, Run tables.

::

    Grid ──truth──► Scada ──metered powers, DER telemetry──► PeakShaving (examples/)
     ▲                                                          │ commands
     └──────────── Channel ◄─────────── (time-shifted) ─────────┘
    Scada ──metered_load_p_mw──► LoadLogger (a user's mosaik simulator, added to build_world)
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import mosaik_api_v3
import numpy as np
import pytest

import gridtwin
from gridtwin.errors import InputError
from gridtwin.scenario import InfluxSpec, load_scenario, scenario_from_dict

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


def test_peak_shaving_example_limits_the_export(tmp_path: Path, influx) -> None:
    base = load_scenario(ROOT / "scenarios/mv-rural-peak-shaving.yaml")
    data = base.model_dump(mode="json", exclude={"functions"})
    plain = scenario_from_dict(data, source=str(ROOT / "scenarios/x.yaml"))
    base.recording.influx = InfluxSpec(url=influx.url, database="peak")
    with_fn = gridtwin.run(base, out_dir=tmp_path / "with")
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
    check_declared_output(with_fn, tmp_path, influx)


def check_declared_output(run: Any, tmp_path: Path, influx: Any) -> None:
    """The example's Output table, KPIs, summary rows, InfluxDB points and dashboard panels."""
    table = run.table("peak_shaving")  # its Output, one row per step
    fields = ["export_estimate_mw", "limit_active"]
    assert [c for c in table.columns if c not in ("time", "sim_time_s", "element")] == fields
    assert str(table["limit_active"].dtype) == "bool" and len(table) == 96
    assert set(table["element"]) == {"peak_shaving"}
    sgen = run.table("sgen").groupby("sim_time_s")["available_p_mw"].sum()
    load = run.table("load").groupby("sim_time_s")["p_mw"].sum()
    estimate = table.set_index("sim_time_s")["export_estimate_mw"]
    assert float((estimate - (sgen - load)).abs().max()) < 0.05  # metered load: small noise
    limited = table[table["limit_active"]]
    assert set(run.table("command")["sim_time_s"]) <= set(table["sim_time_s"])
    assert run.kpis["peak_shaving"] == {
        "limited_steps": len(limited),
        "export_estimate_max_mw": pytest.approx(float(table["export_estimate_mw"].max())),
    }
    assert 0 < len(limited) < 96
    code = (  # show prints the declared rows, importing neither the example nor numpy
        "import sys\nfrom gridtwin.cli import app\n"
        f"app(['show', {str(run.run_dir)!r}], standalone_mode=False)\n"
        "heavy = ('numpy', 'pandas', 'pyarrow', 'mosaik', 'pandapower', 'bokeh')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy"
        " or m.startswith('gridtwin_user')))"
    )
    env = {**os.environ, "COLUMNS": "200"}
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert re.search(rf"steps with limits in force\s*│\s*{len(limited)}\s*│ steps", shown)
    top = float(table["export_estimate_mw"].max())
    assert re.search(rf"highest estimated export\s*│\s*{top:.3f}\s*│ MW", shown)
    assert shown.strip().endswith("[]")
    run_id = run.kpis["run"]["run_id"]
    answer = influx.query(
        'SELECT "export_estimate_mw", "limit_active" FROM "peak_shaving" '
        f"WHERE \"run_id\" = '{run_id}' AND \"element\" = 'peak_shaving'",
        db="peak",
    )
    values = answer["results"][0]["series"][0]["values"]
    assert len(values) == 96
    assert [v[2] for v in values] == table["limit_active"].tolist()
    assert [v[1] for v in values] == pytest.approx(table["export_estimate_mw"].tolist())
    kpi = influx.query(
        'SELECT "limited_steps" FROM "kpi" WHERE "section" = \'peak_shaving\'', db="peak"
    )
    assert kpi["results"][0]["series"][0]["values"][0][1] == len(limited)
    from typer.testing import CliRunner

    from gridtwin.cli import app

    scenario = str(ROOT / "scenarios/mv-rural-peak-shaving.yaml")
    done = CliRunner().invoke(
        app, ["dashboards", "build", "--out", str(tmp_path / "boards"), "--scenario", scenario]
    )
    assert done.exit_code == 0, done.output
    board = json.loads((tmp_path / "boards/functions.json").read_text(encoding="utf-8"))
    queries = {p["title"]: p["targets"][0]["query"] for p in board["panels"]}
    assert set(queries) == {f"peak_shaving: {f}" for f in fields}
    assert 'FROM "peak_shaving"' in queries["peak_shaving: export_estimate_mw"]
    units = {p["title"]: p["fieldConfig"]["defaults"].get("unit") for p in board["panels"]}
    assert units["peak_shaving: export_estimate_mw"] == "megawatt"
    assert next(p for p in board["panels"] if "limit_active" in p["title"])["type"] == (
        "state-timeline"
    )


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


def test_a_functions_declarations_are_checked(tmp_path: Path) -> None:
    module = tmp_path / "declares.py"
    module.write_text(
        "from gridtwin.controllers.function import AutomationFunction\n"
        "class NotADataclass:\n    x_mw: float\n"
        "class Named(AutomationFunction):\n    reads = ('metered_load_p_mw',)\n"
        "class BadOutput(Named):\n    Output = NotADataclass\n"
    )
    data = load_scenario(ROOT / "scenarios/mv-rural-peak-shaving.yaml").model_dump(mode="json")
    for use, name, field, expected in (
        ("declares.py:Named", "grid", "functions[0].name", "taken by gridtwin"),
        ("declares.py:Named", "events", "functions[0].name", "taken by gridtwin"),
        ("declares.py:Named", "command_rejected", "functions[0].name", "taken by gridtwin"),
        ("declares.py:BadOutput", None, "functions[0].use", "not a dataclass"),
    ):
        data["functions"] = [{"use": use, "name": name}]
        scenario = scenario_from_dict(data, source=str(tmp_path / "s.yaml"))
        with pytest.raises(InputError) as err:
            gridtwin.build_world(scenario, out_dir=tmp_path / "run")
        assert err.value.field == field
        assert expected in str(err.value)


def test_a_users_kpis_that_are_not_figures_leave_kpis_json_whole(tmp_path: Path) -> None:
    """kpis() returning an array or failing: the run's kpis.json is written, the bad part out."""
    module = tmp_path / "figures.py"
    module.write_text(
        "import numpy as np\n"
        "from gridtwin.controllers.function import AutomationFunction\n"
        "class Odd(AutomationFunction):\n    reads = ('metered_load_p_mw',)\n"
        "    def step(self, time_s, view):\n        return []\n"
        "    def kpis(self):\n"
        "        return {'peak_mw': np.float64(1.5), 'trace': np.arange(3), 'nan_mw': float('nan')}\n"
        "class Broken(Odd):\n    def kpis(self):\n        raise RuntimeError('no figures')\n"
    )
    data = load_scenario(ROOT / "scenarios/mv-rural-peak-shaving.yaml").model_dump(mode="json")
    data["time"]["duration"] = "2h"
    for use, expected in (
        ("figures.py:Odd", {"peak_mw": 1.5, "nan_mw": None}),
        ("figures.py:Broken", {}),
    ):
        data["functions"] = [{"use": use, "name": "mine"}]
        scenario = scenario_from_dict(data, source=str(tmp_path / "s.yaml"))
        result = gridtwin.run(scenario, out_dir=tmp_path / use.replace(":", "-"))
        assert result.kpis["mine"] == expected
        assert result.kpis["run"]["completed"]


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


def test_the_readme_shows_every_file_of_the_example() -> None:
    """ "Write your own automation function" shows both files whole, with their line counts."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Write your own automation function") :]
    section = section[: section.index("\n## ", 5)]
    for path in ("examples/peak_shaving.py", "scenarios/mv-rural-peak-shaving.yaml"):
        text = (ROOT / path).read_text(encoding="utf-8")
        assert text.rstrip() in section, path
        assert f"`{path}`,\n{len(text.splitlines())} lines" in section or (
            f"`{path}`, {len(text.splitlines())} lines" in section
        ), path
