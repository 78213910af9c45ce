"""``gridtwin run SCENARIO``: run it, print the summary, write the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gridtwin.cli._app import FORCE_HELP, SCENARIO_HELP, err, fail, line, load_scenario_arg, out
from gridtwin.cli._influx_options import API_HELP, DB_HELP, INFLUX_HELP, ORG_HELP
from gridtwin.errors import InputError

ORDER = 10


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
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Do not write report.html.")
    ] = False,
    influx: Annotated[str | None, typer.Option("--influx", help=INFLUX_HELP)] = None,
    influx_db: Annotated[
        str | None,
        typer.Option(
            "--influx-db", help=DB_HELP + " Default: recording.influx.database, else gridtwin."
        ),
    ] = None,
    influx_api: Annotated[
        str | None, typer.Option("--influx-api", help=API_HELP + " Default: v1.")
    ] = None,
    influx_org: Annotated[str | None, typer.Option("--influx-org", help=ORG_HELP)] = None,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
    real_time: Annotated[
        str | None,
        typer.Option(
            "--real-time",
            metavar="FACTOR",
            help="Pace the steps to the wall clock: 1 = real time, 0.1 = ten times faster "
            "(wall seconds per simulated second). Overrides realtime.factor; the timing table "
            "and kpis.json's realtime section say how late each step started.",
        ),
    ] = None,
    on_overrun: Annotated[
        str | None,
        typer.Option(
            "--on-overrun",
            metavar="MODE",
            help="In real time, a step starting more than one step late: warn (default), "
            "skip (drop the automation functions' work of that step) or stop (end the run, "
            "completed false). Overrides realtime.on_overrun.",
        ),
    ] = None,
    mqtt: Annotated[
        str | None,
        typer.Option(
            "--mqtt",
            help="MQTT broker URL (mqtt://host:1883, mqtts:// for TLS): publish the "
            "control-centre view, take commands; overrides mqtt.url. Credentials from "
            "GRIDTWIN_MQTT_USERNAME / GRIDTWIN_MQTT_PASSWORD.",
        ),
    ] = None,
) -> None:
    """Run SCENARIO and write its run directory.

    Prints a progress bar while it runs and a summary table at the end. The run
    directory holds scenario.yaml (all defaults filled in), one Parquet dataset
    per table (grid, bus, line, trafo, load, sgen, storage, switch, events, and
    those of the automation functions), kpis.json, report.html (also after
    Ctrl-C, for what was recorded) and run.log. With --influx (or
    recording.influx in the scenario) every table also goes to InfluxDB while
    the run goes on; credentials come from INFLUX_USERNAME / INFLUX_PASSWORD
    (v1) or GRIDTWIN_INFLUX_TOKEN (v2).
    """
    from gridtwin.cli._influx_options import (
        apply_influx_options,
        check_influx,
        print_influx_report,
    )
    from gridtwin.cli._summary import summary_table
    from gridtwin.scenario.limits import check_steps
    from gridtwin.scenario.realtime import apply_real_time
    from gridtwin.signals import install_stop_handlers, interrupted_message

    stop = install_stop_handlers()  # SIGTERM like Ctrl-C: an orderly stop (gridtwin.signals)
    try:
        sc = load_scenario_arg(scenario, seed=seed, until=until, force=force)
        check_steps(sc)  # too many steps: refused before pandapower and mosaik are imported
        from gridtwin.world import new_run_dir, prepare, run_scenario

        if engine is not None:
            if engine not in ("power-grid-model", "pandapower"):
                raise InputError(
                    "--engine", "", f"got {engine!r}; expected power-grid-model or pandapower"
                )
            sc.grid.engine = engine
        apply_real_time(sc, real_time, on_overrun)
        apply_influx_options(sc, influx, influx_db, influx_api, influx_org)
        _apply_mqtt(sc, mqtt)
        check_influx(sc)
        with err.status("loading grid and profiles", spinner="dots"):
            prepared = prepare(sc)
    except InputError as exc:
        stop.restore()
        raise fail(exc) from None
    except KeyboardInterrupt:  # stopped while loading
        stop.restore()
        err.print(interrupted_message(stop, out_dir, 0), markup=False)
        raise typer.Exit(code=stop.exit_code or 130) from None
    run_dir = Path(out_dir) if out_dir is not None else new_run_dir(Path("runs"), sc)
    result = None
    try:
        stop.deferred = True  # a stop signal ends the run after a whole recorded step
        result = _run_with_progress(sc, prepared, run_dir, run_scenario, quiet=quiet, stop=stop)
    except InputError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt:
        err.print(interrupted_message(stop, run_dir, sc.n_steps), markup=False)
        raise typer.Exit(code=stop.exit_code or 130) from None
    finally:
        stop.restore()
        if not no_report and (run_dir / "kpis.json").is_file():
            _write_report(run_dir)
    if stop.received is not None:
        err.print(interrupted_message(stop, result.run_dir, sc.n_steps), markup=False)
        raise typer.Exit(code=stop.exit_code)
    out.print(summary_table(result.kpis, title=f"{sc.name}: {result.run_dir}"))
    stopped = result.kpis.get("realtime", {}).get("stopped")
    if stopped:  # realtime.on_overrun stop: the run ended early, in order
        steps = result.kpis["run"]["steps"]
        err.print(
            f"stopped: {stopped}; {steps:,} of {sc.n_steps:,} steps, in {result.run_dir}",
            markup=False,
        )
    line(f"run directory: {result.run_dir}")
    if not no_report and (run_dir / "report.html").is_file():
        line(f"report: {run_dir / 'report.html'}")
    print_influx_report(result.influx, result.run_dir)
    if stopped:
        raise typer.Exit(code=1)


def _apply_mqtt(sc: Any, url: str | None) -> None:
    """Put ``--mqtt URL`` into the scenario's ``mqtt`` section (InputError on a bad URL)."""
    if url is None:
        return
    from gridtwin.scenario.mqtt import mqtt_spec

    data = sc.mqtt.model_dump() if sc.mqtt is not None else {}
    sc.mqtt = mqtt_spec(data | {"url": url}, "--mqtt")


def _run_with_progress(
    sc: Any, prepared: Any, run_dir: Path, run_scenario: Any, *, quiet: bool, stop: Any
) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

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
            stop.check()  # raises KeyboardInterrupt here if a stop signal arrived

        return run_scenario(sc, out_dir=run_dir, prepared=prepared, on_step=on_step)


def _write_report(run_dir: Path) -> None:
    """report.html for what the run directory holds; a failure is a warning, not an error."""
    from gridtwin.report.html import write_report

    try:
        with err.status("writing report.html", spinner="dots"):
            write_report(run_dir)
    except Exception as exc:  # the run directory is complete without the report
        err.print(f"warning: report.html not written: {type(exc).__name__}: {exc}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``run``."""
    app.command()(run)
