"""gridtwin: a real-time co-simulation testbed for distribution-grid automation.

The public surface is small: load a scenario, run it, read the run directory.

>>> import gridtwin
>>> run = gridtwin.run("scenarios/mv-rural-day.yaml")  # doctest: +SKIP
>>> scenario = gridtwin.load_scenario("scenarios/mv-rural-day.yaml")  # doctest: +SKIP
>>> built = gridtwin.build_world(scenario)  # doctest: +SKIP
>>> table = gridtwin.sweep("scenarios/sweeps/n1-flisr.yaml")  # doctest: +SKIP
"""

from gridtwin.errors import InputError

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
    "sweep",
]
__version__ = "0.1.0"


def __getattr__(name: str):  # lazy: importing gridtwin (and its CLI) stays light
    if name in ("RunResult", "run_scenario", "build_world", "BuiltWorld"):
        from gridtwin import world

        return getattr(world, name)
    if name in ("Run", "run"):
        from gridtwin import rundir as run_module

        return getattr(run_module, name)
    if name in ("Scenario", "load_scenario"):
        from gridtwin import scenario

        return getattr(scenario, name)
    if name == "sweep":
        from gridtwin.sweeps import sweep

        return sweep
    raise AttributeError(name)
