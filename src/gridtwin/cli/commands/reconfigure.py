"""``gridtwin reconfigure NET`` and ``gridtwin assess NET``: switch reconfiguration offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from gridtwin.cli._app import err, fail, line, out
from gridtwin.errors import InputError

ORDER = 60

STATUS_TEXT = {
    "optimal": "optimal (every radial configuration evaluated)",
    "local": "local optimum (branch exchange found no better neighbour)",
    "budget": "best found within the evaluation budget (--max-evaluations)",
    "time_limit": "best found before the wall-clock cap (--time-limit) stopped the search",
}
"""What the search's status word means, for the table's title."""

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
            help="Prices over the objective's presets, KEY=NUMBER separated by commas, "
            "e.g. 'losses=50,switching=10'. Keys: losses [EUR/MWh], reliability "
            "[factor], switching [EUR/operation], violations [EUR/(%·h)]."
        ),
    ] = None,
    max_evaluations: Annotated[
        int,
        typer.Option(
            "--max-evaluations",
            help="Search budget: configuration-period evaluations (one power flow each). "
            "Machine-independent: the same seed gives the same result on any machine.",
        ),
    ] = 20000,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="Optional wall-clock safety cap in seconds (default: none). If it binds, "
            "the result depends on the machine's load and a warning says so.",
            show_default=False,
        ),
    ] = None,
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
        if max_evaluations <= 0:
            raise InputError(
                "--max-evaluations", "", f"got {max_evaluations}; expected a count > 0"
            )
        if time_limit is not None and not time_limit > 0:
            raise InputError("--time-limit", "", f"got {time_limit}; expected seconds > 0")
        w = _reconfig_weights(objective, weights)
        problem = Problem.from_net(
            _reconfig_net(net), all_lines_switchable=all_lines_switchable, source=net
        )
        per = read_periods_csv(periods, problem) if periods else Periods.from_net(problem.net)
    except InputError as exc:
        raise fail(exc) from None
    with err.status("optimizing", spinner="dots"):
        before = assess(problem, problem.start_closed, per, weights=w)
        solution = optimize(
            problem,
            per,
            weights=w,
            max_evaluations=max_evaluations,
            time_limit_s=time_limit,
            seed=seed,
        )
    after = solution.assessment
    hours = float(per.duration_h.sum())
    table = Table(
        title=f"{net}: {per.n} period(s), {problem.m} switchable lines",
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
        line(
            f"{where}open lines {p.opened or '-'}; close lines {p.closed or '-'}; "
            f"open after: {p.open_lines}"
        )
    if not problem.all_lines_switchable and names.notna().any():
        shown = [str(names.loc[i]) for i in after.periods[0].open_lines]
        line(f"open lines by name: {', '.join(shown)}")
    status = STATUS_TEXT.get(str(solution.status), str(solution.status))
    line(f"search: {status}; {solution.runtime_s:.2f} s, {solution.power_flows} power flows")
    if str(solution.status) == "time_limit":
        err.print(
            f"warning: the --time-limit of {time_limit:g} s stopped the search before its "
            f"budget of {max_evaluations} evaluations: the result depends on the machine's "
            "load (drop --time-limit for a reproducible one)",
            markup=False,
            highlight=False,
        )
    if out_file is not None:
        out_file.write_text(json.dumps(solution.to_dict(), indent=1) + "\n", encoding="utf-8")
        line(f"solution: {out_file}")


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
        raise fail(exc) from None
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
        line(f"not feasible: {reason}")
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


def register(app: typer.Typer) -> None:
    """Add ``reconfigure`` and ``assess``."""
    app.command()(reconfigure)
    app.command("assess")(assess_command)
