"""Command-line parts for InfluxDB and Grafana: ``--influx`` on ``run``, ``influx-replay``,
``dashboards build`` and ``dashboards push``. Registered on :data:`gridtwin.cli.app`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gridtwin.cli import _fail, app, err, out
from gridtwin.errors import InputError

__all__ = ["apply_influx_options", "check_influx", "print_influx_report"]

INFLUX_HELP = "Also write the run to InfluxDB at this URL (e.g. http://localhost:8086)."
DB_HELP = "InfluxDB database (v1) or bucket (v2). Default: the scenario's, else gridtwin."
API_HELP = "InfluxDB write API: v1 (/write, default) or v2 (bucket, org, token)."
ORG_HELP = "InfluxDB v2 organization (default: GRIDTWIN_INFLUX_ORG)."
RP_HELP = "InfluxDB v1 retention policy (default: the database's default)."


def apply_influx_options(
    sc: Any,
    url: str | None,
    database: str | None,
    api: str | None,
    org: str | None = None,
    rp: str | None = None,
) -> None:
    """Put ``--influx`` and friends into the scenario's ``recording.influx``.

    Raises
    ------
    InputError
        An unknown API, or InfluxDB options without ``--influx`` or a scenario URL.
    """
    from gridtwin.scenario.recording import influx_spec

    if api is not None and api not in ("v1", "v2"):
        raise InputError("--influx-api", "", f"got {api!r}; expected v1 or v2")
    spec = sc.recording.influx
    if url is None:
        if spec is None and any(v is not None for v in (database, api, org, rp)):
            raise InputError("--influx-db", "", "given without --influx URL; expected both")
        if spec is None:
            return
    data = spec.model_dump() if spec is not None else {}
    source = f"{sc.source_file}: recording.influx"
    if url is not None:
        data["url"] = url
        source = "--influx"
    for key, value in (
        ("database", database),
        ("api", api),
        ("org", org),
        ("retention_policy", rp),
    ):
        if value is not None:
            data[key] = value
    if database is not None and not database.strip():
        raise InputError("--influx-db", "", "got an empty name; expected a database name")
    sc.recording.influx = influx_spec(data, source)
    _SOURCES[id(sc.recording.influx)] = source


_SOURCES: dict[int, str] = {}  # where each InfluxSpec's URL came from, for messages


def check_influx(sc: Any) -> None:
    """Connect once before the run: a wrong URL or password fails here, in one line."""
    from gridtwin.recording.influx_client import connect
    from gridtwin.recording.influx_run import target_from_spec

    spec = sc.recording.influx
    if spec is None:
        return
    source = _SOURCES.get(id(spec), f"{sc.source_file}: recording.influx")
    target = target_from_spec(spec, source)
    connect(target).close()


def print_influx_report(report: Any, run_dir: Path) -> None:
    """One line on what went to InfluxDB; how to replay what did not."""
    if report is None:
        return
    s = report.stats
    line = (
        f"influxdb: {s.points:,} points written ({s.bytes / 1e6:.1f} MB) to "
        f"{report.url}, database {report.database}"
    )
    if s.outage_s:
        line += f"; {s.outage_s:.1f} s outage bridged"
    out.print(line, markup=False, highlight=False)
    if not report.complete:
        missing = max(s.unsent_points, sum(report.queued.values()) - s.points)
        err.print(
            f"warning: influxdb: {missing:,} points not written"
            + (
                f" ({report.error})"
                if report.error
                else f" ({s.last_error})"
                if s.last_error
                else ""
            )
            + f"; the run store is complete: gridtwin influx-replay {run_dir} --influx URL",
            markup=False,
        )


@app.command("influx-replay")
def influx_replay(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.", show_default=False)],
    influx: Annotated[str, typer.Option("--influx", help="InfluxDB URL.", show_default=False)],
    influx_db: Annotated[str, typer.Option("--influx-db", help=DB_HELP)] = "gridtwin",
    influx_api: Annotated[str, typer.Option("--influx-api", help=API_HELP)] = "v1",
    influx_org: Annotated[str | None, typer.Option("--influx-org", help=ORG_HELP)] = None,
    influx_rp: Annotated[str | None, typer.Option("--influx-rp", help=RP_HELP)] = None,
) -> None:
    """Write a finished run (its Parquet tables and kpis.json) to InfluxDB.

    For runs whose live writes did not all arrive (the database was down);
    writing a run twice is harmless. Timestamps are simulated time.
    """
    from gridtwin.recording.influx_client import InfluxApi, InfluxTarget, connect
    from gridtwin.recording.influx_replay import replay_run
    from gridtwin.recording.influx_run import SPILL_FILE

    try:
        if influx_api not in ("v1", "v2"):
            raise InputError("--influx-api", "", f"got {influx_api!r}; expected v1 or v2")
        if not (run_dir / "scenario.yaml").is_file():
            raise InputError(
                str(run_dir), "", "no scenario.yaml here; expected a gridtwin run directory"
            )
        target = InfluxTarget(
            url=influx,
            database=influx_db,
            api=InfluxApi(influx_api),
            org=influx_org,
            retention_policy=influx_rp,
        )
        client = connect(target)
        try:
            with err.status("writing to InfluxDB", spinner="dots"):
                written = replay_run(run_dir, client)
        finally:
            client.close()
    except InputError as exc:
        raise _fail(exc) from None
    spill = run_dir / SPILL_FILE
    if spill.exists():
        spill.unlink()  # everything it held is written now
    total = sum(written.values())
    parts = ", ".join(f"{k} {v:,}" for k, v in sorted(written.items()))
    out.print(
        f"influxdb: {total:,} points written to {target.safe_url}, database {influx_db} ({parts})",
        markup=False,
        highlight=False,
    )


dashboards_app = typer.Typer(help="Grafana dashboards: build the JSON files, push them to Grafana.")
app.add_typer(dashboards_app, name="dashboards")


def _default_dashboards_dir() -> Path:
    here = Path(__file__).resolve()
    repo = here.parents[2]
    return repo / "dashboards" if (repo / "pyproject.toml").is_file() else Path("dashboards")


@dashboards_app.command("build")
def dashboards_build(
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder (default: the repository's dashboards/).")
    ] = None,
) -> None:
    """Write the dashboards (JSON) and the Grafana provisioning files."""
    from gridtwin.dashboards import write_all

    folder = out_dir or _default_dashboards_dir()
    for path in write_all(folder):
        out.print(str(path), markup=False, highlight=False)


@dashboards_app.command("push")
def dashboards_push(
    grafana_url: Annotated[
        str, typer.Option("--grafana-url", help="Grafana base URL, e.g. http://localhost:3000.")
    ],
    folder: Annotated[str, typer.Option(help="Grafana folder (uid and title).")] = "gridtwin",
    datasource_uid: Annotated[
        str,
        typer.Option(help="uid of the InfluxDB (InfluxQL) data source in that Grafana."),
    ] = "gridtwin-influxdb",
) -> None:
    """Upload the dashboards to a running Grafana (GRAFANA_TOKEN, or GRAFANA_USERNAME/PASSWORD)."""
    from gridtwin.dashboards.push import push_dashboards

    try:
        urls = push_dashboards(grafana_url, folder=folder, datasource_uid=datasource_uid)
    except InputError as exc:
        raise _fail(exc) from None
    for url in urls:
        out.print(url, markup=False, highlight=False)
