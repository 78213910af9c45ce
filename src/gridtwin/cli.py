"""The command line: parse, call, print. Bad input exits with status 2 and one line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from gridtwin.errors import InputError

app = typer.Typer(
    help=(
        "gridtwin: a co-simulation testbed for distribution-grid automation.\n\n"
        "Run a scenario (grid + period + profiles + events) as a mosaik co-simulation and "
        "record every signal to a run directory (Parquet time series, kpis.json, run.log)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True, highlight=False, soft_wrap=True)

SCENARIO_HELP = "A scenario YAML file, or the name of a shipped one (see `gridtwin scenarios`)."


def shipped_scenarios_dir() -> Path:
    """The folder of the scenarios that ship with gridtwin."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "scenarios", here.parent / "scenarios"):
        if candidate.is_dir():
            return candidate
    return Path("scenarios")


def _resolve_scenario(arg: str) -> Path:
    path = Path(arg)
    if path.exists() or path.suffix in (".yaml", ".yml"):
        return path
    shipped = shipped_scenarios_dir() / f"{arg}.yaml"
    return shipped if shipped.is_file() else path


def _fail(exc: InputError) -> typer.Exit:
    err.print(f"error: {exc}", markup=False)
    return typer.Exit(code=2)


def _load(arg: str, *, seed: int | None = None, until: str | None = None) -> Any:
    from gridtwin.scenario import load_scenario
    from gridtwin.timeparse import parse_duration_s

    path = _resolve_scenario(arg)
    scenario = load_scenario(path)
    if seed is not None:
        if seed < 0:
            raise InputError("--seed", "", f"got {seed}; expected 0 or more")
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
    return scenario


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help=SCENARIO_HELP, show_default=False)],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Run directory (default: runs/<name>-<time>).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed; overrides the scenario's `seed`.")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            help="Stop after this much simulated time (e.g. 6h, 7d); overrides time.duration."
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(help="Power-flow engine: power-grid-model (default) or pandapower."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run SCENARIO and write its run directory.

    Prints a progress bar while it runs and a summary table at the end. The run
    directory holds scenario.yaml (all defaults filled in), one Parquet dataset
    per table (grid, bus, line, trafo, load, sgen, switch, events), kpis.json
    and run.log.
    """
    from gridtwin.world import prepare, run_scenario

    try:
        sc = _load(scenario, seed=seed, until=until)
        if engine is not None:
            if engine not in ("power-grid-model", "pandapower"):
                raise InputError(
                    "--engine", "", f"got {engine!r}; expected power-grid-model or pandapower"
                )
            sc.grid.engine = engine
        with err.status("loading grid and profiles", spinner="dots"):
            prepared = prepare(sc)
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("steps"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=quiet,
            transient=False,
        )
        with progress:
            task = progress.add_task(sc.name, total=sc.n_steps)
            every = max(1, sc.n_steps // 200)

            def on_step(done: int) -> None:
                if done % every == 0 or done == sc.n_steps:
                    progress.update(task, completed=done)

            result = run_scenario(sc, out_dir=out_dir, prepared=prepared, on_step=on_step)
    except InputError as exc:
        raise _fail(exc) from None
    out.print(_summary_table(result.kpis, title=f"{sc.name}: {result.run_dir}"))
    out.print(f"run directory: {result.run_dir}", markup=False, highlight=False)


def _summary_table(kpis: dict[str, dict[str, Any]], title: str) -> Table:
    run, grid = kpis.get("run", {}), kpis.get("grid", {})
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("unit")

    def fmt(value: Any, digits: int) -> str:
        return "n/a" if value is None else f"{value:.{digits}f}"

    rows = [
        ("steps", str(run.get("steps")), ""),
        ("wall time", fmt(run.get("wall_s"), 2), "s"),
        ("simulated time", fmt((run.get("sim_seconds") or 0) / 3600, 1), "h"),
        ("power flows not converged", str(grid.get("pf_nonconverged_steps")), "steps"),
        ("min bus voltage", fmt(grid.get("vm_min_pu"), 4), "pu"),
        ("max bus voltage", fmt(grid.get("vm_max_pu"), 4), "pu"),
        ("max line loading", fmt(grid.get("line_loading_max_percent"), 1), "%"),
        ("energy losses", fmt(grid.get("losses_mwh"), 3), "MWh"),
        ("energy consumed", fmt(grid.get("energy_consumed_mwh"), 3), "MWh"),
        ("energy generated", fmt(grid.get("energy_generated_mwh"), 3), "MWh"),
        ("energy not supplied", fmt(grid.get("energy_not_supplied_mwh"), 3), "MWh"),
    ]
    for row in rows:
        table.add_row(*row)
    return table


@app.command()
def validate(
    scenario: Annotated[str, typer.Argument(help=SCENARIO_HELP, show_default=False)],
) -> None:
    """Check SCENARIO without running it: schema, network, profiles and events.

    Exits 0 and prints a one-line summary if it is valid; otherwise prints one
    line naming the file, the field and what was expected, and exits 2.
    """
    from gridtwin.world import prepare

    try:
        sc = _load(scenario)
        prepared = prepare(sc)
    except InputError as exc:
        raise _fail(exc) from None
    net = prepared.net
    out.print(
        f"ok: {sc.name}: {sc.n_steps} steps of {sc.time.step} s, {len(net.bus)} buses, "
        f"{len(net.line)} lines, {len(net.load)} loads, {len(net.sgen)} sgens, "
        f"{len(prepared.schedule)} events",
        markup=False,
        highlight=False,
    )


@app.command()
def scenarios() -> None:
    """List the scenarios that ship with gridtwin, one line each."""
    import yaml

    folder = shipped_scenarios_dir()
    table = Table(show_header=True, header_style="bold", title=str(folder))
    table.add_column("scenario")
    table.add_column("description")
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            data = {}
        table.add_row(path.stem, str(data.get("description", "")))
    out.print(table)


@app.command()
def show(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print kpis.json as it is.")] = False,
) -> None:
    """Print the KPIs of a finished run (its kpis.json) as a table."""
    path = run_dir / "kpis.json"
    try:
        if not path.is_file():
            raise InputError(
                str(run_dir), "", "no kpis.json here; expected a gridtwin run directory"
            )
        try:
            kpis = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(str(path), "", f"not valid JSON ({exc})") from None
    except InputError as exc:
        raise _fail(exc) from None
    if as_json:
        sys.stdout.write(json.dumps(kpis, indent=2) + "\n")
        return
    table = Table(title=str(run_dir), show_header=True, header_style="bold")
    table.add_column("kpi")
    table.add_column("value", justify="right")
    for section, values in kpis.items():
        for key, value in values.items():
            shown = f"{value:.6g}" if isinstance(value, float) else str(value)
            table.add_row(f"{section}.{key}", shown)
    out.print(table)
