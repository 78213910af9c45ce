"""gridtwin: a real-time co-simulation testbed for distribution-grid automation.

The public surface is small: load a scenario, run it, read the run directory.

>>> import gridtwin
>>> run = gridtwin.run("scenarios/mv-rural-day.yaml")  # doctest: +SKIP
>>> scenario = gridtwin.load_scenario("scenarios/mv-rural-day.yaml")  # doctest: +SKIP
>>> built = gridtwin.build_world(scenario)  # doctest: +SKIP
"""

from gridtwin.errors import InputError
from gridtwin.scenario import Scenario, load_scenario

__all__ = [
    "BuiltWorld",
    "InputError",
    "Run",
    "RunResult",
    "Scenario",
    "build_world",
    "load_scenario",
    "run",
    "run_scenario",
]
__version__ = "0.1.0"


def __getattr__(name: str):  # lazy: importing gridtwin should not import mosaik
    if name in ("RunResult", "run_scenario", "build_world", "BuiltWorld"):
        from gridtwin import world

        return getattr(world, name)
    if name in ("Run", "run"):
        from gridtwin import rundir as run_module

        return getattr(run_module, name)
    raise AttributeError(name)
