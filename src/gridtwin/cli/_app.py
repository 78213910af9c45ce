"""The typer application and what every command shares: consoles, errors, scenarios.

Light on purpose: typer, rich and the standard library only, so that every
command starts at once; heavy modules are imported inside the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from gridtwin.errors import InputError

__all__ = [
    "SCENARIO_HELP",
    "app",
    "err",
    "fail",
    "line",
    "load_scenario_arg",
    "out",
    "resolve_scenario",
    "shipped_scenarios_dir",
]

app = typer.Typer(
    help=(
        "gridtwin: a co-simulation testbed for distribution-grid automation.\n\n"
        "Run a scenario (grid + period + profiles + events) as a mosaik co-simulation and "
        "record every signal to a run directory (Parquet time series, kpis.json, "
        "report.html, run.log)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console()
err = Console(stderr=True, highlight=False, soft_wrap=True)

SCENARIO_HELP = "A scenario YAML file, or the name of a shipped one (see `gridtwin scenarios`)."


def line(text: str) -> None:
    """Print one line to stdout as it is: never wrapped, no markup (greppable when piped)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def fail(exc: InputError) -> typer.Exit:
    """Print the one-line error to stderr; the caller raises the returned exit (status 2)."""
    err.print(f"error: {exc}", markup=False)
    return typer.Exit(code=2)


def shipped_scenarios_dir() -> Path:
    """The folder of the scenarios that ship with gridtwin."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "scenarios", here.parents[1] / "scenarios"):
        if candidate.is_dir():
            return candidate
    return Path("scenarios")


def resolve_scenario(arg: str) -> Path:
    """A path as given, or the shipped scenario of that name."""
    path = Path(arg)
    if path.exists() or path.suffix in (".yaml", ".yml"):
        return path
    shipped = shipped_scenarios_dir() / f"{arg}.yaml"
    return shipped if shipped.is_file() else path


FORCE_HELP = "Run even above the run-size limits (limits.max_steps, limits.max_store_gb)."


def load_scenario_arg(
    arg: str, *, seed: int | None = None, until: str | None = None, force: bool = False
) -> Any:
    """Load SCENARIO with ``--seed`` and ``--until`` applied.

    Raises
    ------
    InputError
        A bad scenario, a negative seed, or an ``--until`` that is no positive
        multiple of the step.
    """
    from gridtwin.scenario import load_scenario
    from gridtwin.timeparse import parse_duration_s

    scenario = load_scenario(resolve_scenario(arg))
    if seed is not None:
        if not 0 <= seed < 2**32:
            raise InputError("--seed", "", f"got {seed}; expected 0 to 2**32 - 1")
        scenario.seed = seed
    if until is not None:
        try:
            duration = parse_duration_s(until)
        except ValueError as exc:
            raise InputError("--until", "", f"got {until!r}; {exc}") from None
        if duration <= 0 or duration % scenario.time.step:
            raise InputError(
                "--until", "", f"got {until!r}; expected a positive multiple of time.step"
            )
        scenario.time.duration = duration
    if force:
        scenario.limits.force = True
    return scenario
