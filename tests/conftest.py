"""Shared fixtures: scenario files written into temporary folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


def base_scenario(**overrides: Any) -> dict[str, Any]:
    """A small valid scenario (case33bw, 2 h at 15 min) to modify per test."""
    data: dict[str, Any] = {
        "name": "t",
        "time": {"start": "2016-06-21T00:00:00+01:00", "duration": "2h", "step": "15min"},
        "grid": {"pandapower": "case33bw"},
    }
    data.update(overrides)
    return data


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write a scenario dict as YAML into tmp_path and return its path."""

    def write(data: dict[str, Any], name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def influx(tmp_path_factory):
    """A real influxd (Debian package influxdb) on free loopback ports, for the session."""
    from tests.influx_server import InfluxServer, influxd_path

    if influxd_path() is None:
        pytest.fail(
            "influxd not found: apt-get install -y influxdb (the README's test command does)"
        )
    server = InfluxServer(tmp_path_factory.mktemp("influxd"))
    server.start()
    yield server
    server.stop()
