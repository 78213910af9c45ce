"""InfluxDB options shared by ``run`` and ``influx-replay``: help texts, checks, the report line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gridtwin.cli._app import err, line
from gridtwin.errors import InputError

__all__ = [
    "API_HELP",
    "DB_HELP",
    "INFLUX_HELP",
    "ORG_HELP",
    "RP_HELP",
    "apply_influx_options",
    "check_influx",
    "print_influx_report",
]

INFLUX_HELP = "Also write the run to InfluxDB at this URL (e.g. http://localhost:8086)."
DB_HELP = "InfluxDB database (v1) or bucket (v2)."
API_HELP = "InfluxDB write API: v1 (/write) or v2 (bucket, org, token)."
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
    text = (
        f"influxdb: {s.points:,} points written ({s.bytes / 1e6:.1f} MB) to "
        f"{report.url}, database {report.database}"
    )
    if s.outage_s:
        text += f"; {s.outage_s:.1f} s outage bridged"
    line(text)
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
