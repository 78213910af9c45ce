"""Dashboards: every panel's InfluxQL, with Grafana's macros and template variables
substituted for real runs, answers with at least one non-empty series from a live influxd.
Also: the checked-in JSON is what the code generates, provisioning and compose fit together.

::

    runs (estimation day, reconfiguration) ──► influxd ◄── panel queries ($run, $feeder, $bus ...)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gridtwin.dashboards import DASHBOARD_MOUNT, DATASOURCE_UID, build_all, dashboard_json
from gridtwin.scenario import InfluxSpec, load_scenario
from gridtwin.world import run_scenario
from tests.conftest import REPO
from tests.influx_helpers import assert_counts_match

DB = "dash"


@pytest.fixture(scope="module")
def runs(influx, tmp_path_factory) -> list[tuple[str, int, int]]:
    """(run id, start [s], end [s]) of real runs written to the live server: estimation with
    bad data, reconfiguration, forecasting, centralized voltage control."""
    out = []
    for name, hours in (
        ("mv-rural-estimation", 16),
        ("mv-reconfiguration", 7),
        ("mv-rural-forecast", 14),
        ("high-pv-voltage-central", 14),
    ):
        sc = load_scenario(REPO / "scenarios" / f"{name}.yaml")
        sc.time.duration = hours * 3600
        sc.recording.influx = InfluxSpec(url=influx.url, database=DB)
        result = run_scenario(sc, out_dir=tmp_path_factory.mktemp("dash") / name)
        assert result.influx.complete
        assert_counts_match(influx, DB, result.run_dir)  # forecast, control, reconfig tables too
        start = int(sc.time.start.timestamp())
        out.append((result.kpis["run"]["run_id"], start, start + sc.time.duration))
    return out


def _values(server, q: str) -> list:
    result = server.query(q, db=DB)["results"][0]
    assert "error" not in result, (q, result)
    return [v for s in result.get("series", []) for v in s["values"]]


def _regex(value: str) -> str:
    return re.sub(r"([\\^$.|?*+()\[\]{}/])", r"\\\1", value)


def _substitute(text: str, variables: dict[str, str], start: int, end: int) -> str:
    text = text.replace("$timeFilter", f"time >= {start}s AND time <= {end}s")
    text = text.replace("$__interval", "15m")
    for name in sorted(variables, key=len, reverse=True):
        text = text.replace(f"${name}", variables[name])
    return text


def _resolve_variables(server, board: dict, run_id: str) -> dict[str, str]:
    """Run each template variable's own query in order; take its first value."""
    variables = {"run": _regex(run_id)}
    for var in board["templating"]["list"]:
        if var["name"] == "run":
            values = [v[1] for v in _values(server, var["query"])]
            assert run_id in values
            continue
        q = _substitute(var["query"], variables, 0, 0)
        values = sorted(v[1] for v in _values(server, q))
        variables[var["name"]] = _regex(values[0]) if values else "__none__"
    return variables


def _queries(board: dict):
    for panel in board["panels"]:
        for target in panel["targets"]:
            yield panel["title"], target["query"]
    for annotation in board["annotations"]["list"]:
        if "query" in annotation:
            yield "annotation " + annotation["name"], annotation["query"]


def test_every_panel_query_returns_data(influx, runs):
    checked = 0
    for board in build_all().values():
        for title, q in _queries(board):
            answers = []
            for run_id, start, end in runs:
                variables = _resolve_variables(influx, board, run_id)
                answers.append(_values(influx, _substitute(q, variables, start, end)))
            assert any(any(v is not None for row in rows for v in row[1:]) for rows in answers), (
                board["uid"],
                title,
                q,
            )
            checked += 1
    assert checked >= 35


def test_checked_in_dashboards_are_generated():
    for name, board in build_all().items():
        path = REPO / "dashboards" / f"{name}.json"
        assert path.read_text(encoding="utf-8") == dashboard_json(board), (
            f"run gridtwin dashboards build ({path})"
        )
        variables = {v["name"] for v in board["templating"]["list"]}
        assert "run" in variables
    names = {b["title"] for b in build_all().values()}
    assert len(names) == 5


def test_provisioning_and_compose_fit_together():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["influxdb"]["image"].startswith("influxdb:1.8")
    assert ":" in services["grafana"]["image"] and not services["grafana"]["image"].endswith(
        ":latest"
    )
    for service in services.values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:")
    mounts = {}
    for volume in services["grafana"]["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            assert (REPO / source).exists(), source
            mounts[target] = REPO / source
    datasources = mounts["/etc/grafana/provisioning/datasources"]
    providers = mounts["/etc/grafana/provisioning/dashboards"]
    ds = yaml.safe_load((datasources / "gridtwin.yaml").read_text())["datasources"][0]
    assert ds["uid"] == DATASOURCE_UID and ds["type"] == "influxdb"
    assert ds["url"] == "http://influxdb:8086"
    provider = yaml.safe_load((providers / "gridtwin.yaml").read_text())["providers"][0]
    assert provider["options"]["path"] == DASHBOARD_MOUNT
    folder: Path = mounts[DASHBOARD_MOUNT]
    assert sorted(p.stem for p in folder.glob("*.json")) == sorted(build_all())
    home = services["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (folder / Path(home).relative_to(DASHBOARD_MOUNT)).is_file()
