"""``gridtwin influx-replay RUN_DIR --influx URL``: write a finished run to InfluxDB."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridtwin.cli._app import err, fail, line
from gridtwin.cli._influx_options import API_HELP, DB_HELP, ORG_HELP, RP_HELP
from gridtwin.errors import InputError

ORDER = 70


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
        raise fail(exc) from None
    spill = run_dir / SPILL_FILE
    if spill.exists():
        spill.unlink()  # everything it held is written now
    total = sum(written.values())
    parts = ", ".join(f"{k} {v:,}" for k, v in sorted(written.items()))
    line(f"influxdb: {total:,} points written to {target.safe_url}, database {influx_db} ({parts})")


def register(app: typer.Typer) -> None:
    """Add ``influx-replay``."""
    app.command("influx-replay")(influx_replay)
