"""Library use: run a scenario and read its tables.

>>> import gridtwin
>>> run = gridtwin.run("scenarios/mv-rural-day.yaml")     # doctest: +SKIP
>>> run.kpis["grid"]["losses_mwh"]                        # doctest: +SKIP
>>> run.table("bus").pivot(index="time", columns="element", values="vm_pu")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Run", "run"]


@dataclass(frozen=True, slots=True)
class Run:
    """A run directory: its KPIs and its tables.

    Attributes
    ----------
    run_dir : Path
        The run directory.
    kpis : dict
        ``kpis.json``: sections of figures with units in their keys.
    """

    run_dir: Path
    kpis: dict[str, dict[str, Any]]

    @classmethod
    def open(cls, run_dir: str | Path) -> Run:
        """An existing run directory (one-line :class:`~gridtwin.errors.InputError` if none)."""
        from gridtwin.report.rundir import open_run_dir

        found = open_run_dir(Path(run_dir))
        return cls(found.path, found.kpis)

    @property
    def tables(self) -> list[str]:
        """Names of the recorded tables."""
        from gridtwin.report.rundir import open_run_dir

        return open_run_dir(self.run_dir).tables

    def table(self, name: str) -> Any:
        """One recorded table as a pandas DataFrame (long format: time, element, fields)."""
        from gridtwin.report.rundir import open_run_dir

        found = open_run_dir(self.run_dir)
        if name not in found.tables:
            raise KeyError(
                f"{name}: no such table in {self.run_dir}; have {', '.join(found.tables)}"
            )
        return found.read(name)


def run(scenario: Any, *, out_dir: str | Path | None = None, runs_root: str | Path = "runs") -> Run:
    """Run a scenario (a :class:`~gridtwin.scenario.Scenario` or a path) into a :class:`Run`."""
    from gridtwin.scenario import load_scenario
    from gridtwin.world import run_scenario

    if not hasattr(scenario, "time"):
        scenario = load_scenario(scenario)
    result = run_scenario(scenario, out_dir=out_dir, runs_root=runs_root)
    return Run(result.run_dir, result.kpis)
