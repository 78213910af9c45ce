"""gridtwin: a real-time co-simulation testbed for distribution-grid automation.

The public surface is small: load a scenario, run it, read the run directory.

>>> from gridtwin import load_scenario, run_scenario
"""

from gridtwin.errors import InputError
from gridtwin.scenario import Scenario, load_scenario

__all__ = ["InputError", "RunResult", "Scenario", "load_scenario", "run_scenario"]
__version__ = "0.1.0"


def __getattr__(name: str):  # lazy: importing gridtwin should not import mosaik
    if name in ("RunResult", "run_scenario"):
        from gridtwin import world

        return getattr(world, name)
    raise AttributeError(name)
