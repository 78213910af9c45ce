"""``gridtwin dashboards build|push``: the Grafana dashboards."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridtwin.cli._app import fail, line
from gridtwin.errors import InputError

ORDER = 80

dashboards_app = typer.Typer(help="Grafana dashboards: build the JSON files, push them to Grafana.")


def _default_dashboards_dir() -> Path:
    here = Path(__file__).resolve()
    repo = here.parents[4]
    return repo / "dashboards" if (repo / "pyproject.toml").is_file() else Path("dashboards")


@dashboards_app.command("build")
def dashboards_build(
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder (default: the repository's dashboards/).")
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            help="Also functions.json: a panel per Output field of this scenario's own functions.",
        ),
    ] = None,
) -> None:
    """Write the dashboards (JSON) and the Grafana provisioning files."""
    from gridtwin.dashboards import write_all

    functions = None
    if scenario is not None:
        from gridtwin.controllers.user import declared_outputs
        from gridtwin.scenario import load_scenario

        try:
            functions = declared_outputs(load_scenario(scenario))
        except InputError as exc:
            raise fail(exc) from None
    folder = out_dir or _default_dashboards_dir()
    for path in write_all(folder, functions):
        line(str(path))


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
        raise fail(exc) from None
    for url in urls:
        line(url)


def register(app: typer.Typer) -> None:
    """Add the ``dashboards`` group."""
    app.add_typer(dashboards_app, name="dashboards")
