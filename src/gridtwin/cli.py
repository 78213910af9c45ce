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
    influx: Annotated[str | None, typer.Option("--influx", help=INFLUX_HELP)] = None,
    influx_db: Annotated[str | None, typer.Option("--influx-db", help=DB_HELP)] = None,
    influx_api: Annotated[str | None, typer.Option("--influx-api", help=API_HELP)] = None,
    influx_org: Annotated[str | None, typer.Option("--influx-org", help=ORG_HELP)] = None,
) -> None:
    """Run SCENARIO and write its run directory.

    Prints a progress bar while it runs and a summary table at the end. The run
    directory holds scenario.yaml (all defaults filled in), one Parquet dataset
    per table (grid, bus, line, trafo, load, sgen, switch, events), kpis.json
    and run.log. With --influx (or recording.influx in the scenario) every table
    also goes to InfluxDB while the run goes on; credentials come from
    INFLUX_USERNAME / INFLUX_PASSWORD (v1) or GRIDTWIN_INFLUX_TOKEN (v2).
    """
    from gridtwin.cli_influx import apply_influx_options, check_influx, print_influx_report
    from gridtwin.world import prepare, run_scenario

    try:
        sc = _load(scenario, seed=seed, until=until)
        if engine is not None:
            if engine not in ("power-grid-model", "pandapower"):
                raise InputError(
                    "--engine", "", f"got {engine!r}; expected power-grid-model or pandapower"
                )
            sc.grid.engine = engine
        apply_influx_options(sc, influx, influx_db, influx_api, influx_org)
        check_influx(sc)
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
    print_influx_report(result.influx, result.run_dir)


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
    se = kpis.get("se")
    if se:
        rows += [
            (
                "steps estimated / not",
                f"{se['steps_estimated']} / {se['steps_not_estimated']}",
                "steps",
            ),
            ("estimate |Vm| error, mean", fmt(se.get("vm_mae_pu"), 6), "pu"),
            ("estimate |Vm| error, max", fmt(se.get("vm_max_abs_err_pu"), 6), "pu"),
            (
                "bad data injected / detected / identified",
                " / ".join(
                    str(se[k])
                    for k in ("bad_data_injected", "bad_data_detected", "bad_data_identified")
                ),
                "steps",
            ),
            ("false alarms", str(se["false_alarms"]), "steps"),
            (
                "estimate time p50 / p95",
                f"{fmt(se.get('ms_per_estimate_p50'), 2)} / "
                f"{fmt(se.get('ms_per_estimate_p95'), 2)}",
                "ms",
            ),
        ]
    rc = kpis.get("reconfig")
    if rc:
        share = rc.get("loss_reduction_share")
        rows += [
            ("reconfiguration plans / commands", f"{rc['plans']} / {rc['commands']}", ""),
            ("switch operations", str(rc["switch_operations"]), ""),
            ("losses with controller", fmt(rc.get("losses_mwh"), 3), "MWh"),
            ("losses, starting configuration", fmt(rc.get("losses_mwh_static"), 3), "MWh"),
            ("loss reduction", fmt(None if share is None else 100 * share, 1), "%"),
            (
                "expected ENS before / after",
                f"{fmt(rc.get('expected_ens_mwh_per_year_before'), 3)} / "
                f"{fmt(rc.get('expected_ens_mwh_per_year_after'), 3)}",
                "MWh/a",
            ),
        ]
    fc = kpis.get("forecast")
    for cadence, label in (("intraday", "intraday"), ("day_ahead", "day-ahead")):
        sec = (fc or {}).get(cadence)
        if not sec:
            continue
        rows += [
            (
                f"forecast {label} skill vs seasonal naive, load / PV",
                f"{fmt(sec.get('load_skill_vs_seasonal_naive'), 3)} / "
                f"{fmt(sec.get('pv_skill_vs_seasonal_naive'), 3)}",
                "",
            ),
            (f"forecast {label} PICP 10-90 %", fmt(sec.get("picp80"), 3), ""),
        ]
    vc = kpis.get("voltage")
    if vc:
        rows += [
            ("voltage band violation", fmt(vc.get("violation_minutes"), 0), "bus-min"),
            ("tap changes", str(vc.get("tap_changes")), ""),
            ("curtailed share", fmt(100 * (vc.get("curtailed_share") or 0.0), 2), "%"),
        ]
    rel, fl = kpis.get("reliability"), kpis.get("flisr")
    if rel:
        rows += [
            ("energy not supplied (reliability)", fmt(rel.get("ens_mwh"), 3), "MWh"),
            (
                "SAIDI / SAIFI",
                f"{fmt(rel.get('saidi_min'), 2)} / {fmt(rel.get('saifi'), 3)}",
                "min / -",
            ),
        ]
    if fl:
        rows += [
            (
                "faults located / restored share",
                f"{fl.get('faults_located_correctly')} / {fmt(fl.get('restored_share'), 3)}",
                "",
            ),
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


# --- switch reconfiguration -----------------------------------------------------------------

NET_HELP = (
    "A pandapower JSON network file (or a pandapower.networks name such as case33bw, "
    "or a SimBench code)."
)


def _reconfig_net(arg: str) -> Any:
    from types import SimpleNamespace

    from gridtwin.grid.sources import load_net, read_net_json

    if Path(arg).exists() or arg.endswith(".json"):
        return read_net_json(arg)
    simbench = "--" in arg
    spec = SimpleNamespace(
        simbench=arg if simbench else None,
        pandapower=None if simbench else arg,
        options={},
        file=None,
    )
    return load_net(spec, source=arg)


def _reconfig_weights(objective: str, weights: str | None) -> Any:
    from gridtwin.controllers.reconfig import Objective, Weights
    from gridtwin.controllers.reconfig.io import parse_weights

    try:
        base = Weights.for_objective(Objective(objective))
    except ValueError:
        raise InputError(
            "--objective", "", f"got {objective!r}; expected losses, reliability or weighted"
        ) from None
    return parse_weights(weights, base) if weights else base


def _assessment_rows(label: str, a: Any, hours: float) -> list[tuple[str, str, str]]:
    def f(value: float, digits: int) -> str:
        return "n/a" if value is None or value != value else f"{value:.{digits}f}"

    return [
        ("mean losses", f(a.losses_mwh * 1e3 / hours, 2), "kW"),
        ("energy losses", f(a.losses_mwh * 1e3, 2), "kWh"),
        ("energy not supplied", f(a.eens_mwh_per_year, 3), "MWh/a"),
        ("interruption cost", f(a.interruption_cost_per_year, 0), "EUR/a"),
        ("min voltage", f(a.vm_min_pu, 4), "pu"),
        ("max line loading", f(a.line_loading_max_percent, 1), "%"),
        ("switching operations", str(a.switching_operations), ""),
        ("objective", f(a.cost["total"], 2), "EUR"),
        ("feasible", "yes" if a.feasible else "no", ""),
    ]


def _solution_weights(meta: Any) -> Any:
    from gridtwin.controllers.reconfig import Weights

    stored = meta.get("weights") if isinstance(meta, dict) else None
    if not isinstance(stored, dict):
        return None
    try:
        return Weights(**{k: float(v) for k, v in stored.items()})
    except (TypeError, ValueError):
        return None


@app.command()
def reconfigure(
    net: Annotated[str, typer.Argument(help=NET_HELP, show_default=False)],
    all_lines_switchable: Annotated[
        bool,
        typer.Option(
            "--all-lines-switchable",
            help="Every line is switchable (benchmarks without switch tables, e.g. case33bw).",
        ),
    ] = False,
    periods: Annotated[
        Path | None,
        typer.Option(
            "--periods",
            help="CSV of loads per period: 'time' (optional), 'NAME [MW]'/'[MVAr]'/'[pu]' columns.",
        ),
    ] = None,
    objective: Annotated[
        str, typer.Option(help="What to minimize: losses, reliability or weighted.")
    ] = "losses",
    weights: Annotated[
        str | None,
        typer.Option(
            help="Prices over the objective's presets, e.g. 'losses=50,reliability=1,"
            "switching=10,violations=10000' (EUR/MWh, factor, EUR/operation, EUR/(%·h))."
        ),
    ] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Search budget [s].")] = 10.0,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the solution (JSON) here.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the search's random restarts.")] = 0,
) -> None:
    """Find the radial switch configuration with the least cost, per period.

    Prints losses and reliability before and after, the lines to open and
    close, and writes the solution (switch states per period plus its
    assessment) as JSON with --out.
    """
    from gridtwin.controllers.reconfig import Periods, Problem, assess, optimize
    from gridtwin.controllers.reconfig.io import read_periods_csv

    try:
        if time_limit <= 0:
            raise InputError("--time-limit", "", f"got {time_limit}; expected seconds > 0")
        w = _reconfig_weights(objective, weights)
        problem = Problem.from_net(
            _reconfig_net(net), all_lines_switchable=all_lines_switchable, source=net
        )
        per = read_periods_csv(periods, problem) if periods else Periods.from_net(problem.net)
    except InputError as exc:
        raise _fail(exc) from None
    with err.status("optimizing", spinner="dots"):
        before = assess(problem, problem.start_closed, per, weights=w)
        solution = optimize(problem, per, weights=w, time_limit_s=time_limit, seed=seed)
    after = solution.assessment
    hours = float(per.duration_h.sum())
    table = Table(
        title=f"{net}: {per.n} period(s), {problem.m} switchable lines, {solution.status}",
        header_style="bold",
    )
    for col in ("figure", "before", "after", "unit"):
        table.add_column(col, justify="left" if col in ("figure", "unit") else "right")
    for (name, b, unit), (_, a, _) in zip(
        _assessment_rows("before", before, hours),
        _assessment_rows("after", after, hours),
        strict=True,
    ):
        table.add_row(name, b, a, unit)
    out.print(table)
    names = problem.net.line["name"]
    for t, p in enumerate(after.periods):
        if not p.opened and not p.closed and t > 0:
            continue
        where = f"period {t}: " if per.n > 1 else ""
        out.print(
            f"{where}open lines {p.opened or '-'}; close lines {p.closed or '-'}; "
            f"open after: {p.open_lines}",
            markup=False,
            highlight=False,
        )
    if not problem.all_lines_switchable and names.notna().any():
        shown = [str(names.loc[i]) for i in after.periods[0].open_lines]
        out.print(f"open lines by name: {', '.join(shown)}", markup=False, highlight=False)
    out.print(
        f"search: {solution.runtime_s:.2f} s, {solution.power_flows} power flows",
        markup=False,
        highlight=False,
    )
    if out_file is not None:
        out_file.write_text(json.dumps(solution.to_dict(), indent=1) + "\n", encoding="utf-8")
        out.print(f"solution: {out_file}", markup=False, highlight=False)


@app.command("assess")
def assess_command(
    net: Annotated[str, typer.Argument(help=NET_HELP, show_default=False)],
    solution: Annotated[
        Path, typer.Option("--solution", help="A solution JSON file (from reconfigure --out).")
    ],
    periods: Annotated[
        Path | None, typer.Option("--periods", help="CSV of loads per period (as reconfigure).")
    ] = None,
    objective: Annotated[
        str | None,
        typer.Option(
            help="Cost presets: losses, reliability or weighted (default: the solution's weights)."
        ),
    ] = None,
    weights: Annotated[
        str | None, typer.Option(help="Prices over the presets (as reconfigure).")
    ] = None,
) -> None:
    """Assess a switch configuration plan without optimizing: feasibility, costs, violations."""
    from gridtwin.controllers.reconfig import Periods, Problem, assess
    from gridtwin.controllers.reconfig.io import (
        parse_weights,
        read_periods_csv,
        read_solution_json,
    )

    try:
        if not solution.is_file():
            raise InputError(str(solution), "", "no such file; expected a solution JSON file")
        try:
            meta = json.loads(solution.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(str(solution), "", f"not valid JSON ({exc})") from None
        all_lines = (
            bool(meta.get("all_lines_switchable", False)) if isinstance(meta, dict) else False
        )
        w = _solution_weights(meta) if objective is None else None
        w = w or _reconfig_weights(objective or "weighted", None)
        if weights:
            w = parse_weights(weights, w)
        problem = Problem.from_net(_reconfig_net(net), all_lines_switchable=all_lines, source=net)
        plan, start = read_solution_json(solution, problem)
        per = (
            read_periods_csv(periods, problem)
            if periods
            else Periods.from_net(problem.net, n=len(plan))
        )
        if len(plan) not in (1, per.n):
            raise InputError(
                str(solution), "periods", f"{len(plan)} periods; expected {per.n} as in the loads"
            )
    except InputError as exc:
        raise _fail(exc) from None
    a = assess(problem, plan, per, weights=w, start=start)
    hours = float(per.duration_h.sum())
    table = Table(title=f"{net}: {solution}", header_style="bold")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for row in _assessment_rows("", a, hours):
        table.add_row(*row)
    for key, value in a.cost.items():
        table.add_row(f"cost: {key}", f"{value:.2f}", "EUR")
    out.print(table)
    for reason in a.reasons:
        out.print(f"not feasible: {reason}", markup=False, highlight=False)
    periods_table = Table(title="per period", header_style="bold")
    for col in ("period", "losses [kW]", "min vm [pu]", "max loading [%]", "ops", "open lines"):
        periods_table.add_column(col)
    for t, p in enumerate(a.periods):
        periods_table.add_row(
            str(t),
            f"{p.losses_mw * 1e3:.2f}",
            f"{p.vm_min_pu:.4f}",
            f"{p.line_loading_max_percent:.1f}",
            str(p.switching_operations),
            ", ".join(map(str, p.open_lines)),
        )
    out.print(periods_table)


from gridtwin.api.command import serve_command  # noqa: E402

app.command("serve")(serve_command)

from gridtwin.cli_influx import (  # noqa: E402  (registers influx-replay and dashboards)
    API_HELP,
    DB_HELP,
    INFLUX_HELP,
    ORG_HELP,
)
