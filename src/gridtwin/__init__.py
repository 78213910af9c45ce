"""gridtwin: a real-time co-simulation testbed for distribution-grid automation.

The public surface is small: load a scenario, run it, read the run directory.

>>> from gridtwin import load_scenario, run_scenario
"""

from gridtwin.errors import InputError

__all__ = ["InputError", "RunResult", "Scenario", "load_scenario", "run_scenario"]
__version__ = "0.1.0"


def __getattr__(name: str):  # lazy: importing gridtwin (and its CLI) stays light
    if name in ("RunResult", "run_scenario"):
        from gridtwin import world

        return getattr(world, name)
    if name in ("Scenario", "load_scenario"):
        from gridtwin import scenario

        return getattr(scenario, name)
    raise AttributeError(name)
