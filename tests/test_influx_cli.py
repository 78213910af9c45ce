"""Command line with InfluxDB: bad URL, refused connection, auth errors -> one line, exit 2.

Credentials come from the environment and never appear in the output or the run log.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gridtwin.cli import app
from tests.influx_server import InfluxServer, free_port

SECRET = "s3cret-Pa55word"


@pytest.fixture(scope="module")
def auth_influx(tmp_path_factory):
    """An influxd with authentication on and one admin user."""
    server = InfluxServer(tmp_path_factory.mktemp("influxd-auth"), auth=True)
    server.start()
    server.create_admin("admin", SECRET)
    yield server
    server.stop()


def _one_line_error(result, *needles: str) -> str:
    text = result.output.strip()
    assert result.exit_code == 2, text
    assert "Traceback" not in text and len(text.splitlines()) == 1, text
    assert text.startswith("error: ")
    for needle in needles:
        assert needle in text, text
    assert SECRET not in text
    return text


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("localhost:8086", "expected a URL like http://localhost:8086"),
        ("ftp://localhost:8086", "expected a URL like"),
        ("http://127.0.0.1:99999", "expected a URL like"),
        ("http://no-such-host.invalid:8086", "unknown host"),
        ("http://127.0.0.1:FREE", "connection refused"),
    ],
)
def test_bad_or_unreachable_url(url, needle, tmp_path):
    url = url.replace("FREE", str(free_port()))  # chosen now, not at collection
    result = CliRunner().invoke(
        app,
        [
            "run",
            "case33bw-outage",
            "--until",
            "1h",
            "-q",
            "--influx",
            url,
            "--out",
            str(tmp_path / "r"),
        ],
    )
    _one_line_error(result, "--influx", needle)
    assert not (tmp_path / "r").exists()  # checked before the run starts


def test_not_influxdb(tmp_path):
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # not on the CLI's stderr
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = CliRunner().invoke(app, ["run", "case33bw-outage", "-q", "--influx", url])
        _one_line_error(result, "is this InfluxDB?")
    finally:
        server.shutdown()


def test_auth_errors(auth_influx, monkeypatch):
    url = auth_influx.url
    result = CliRunner().invoke(app, ["run", "case33bw-outage", "-q", "--influx", url])
    _one_line_error(result, "authentication failed", "INFLUX_USERNAME")
    monkeypatch.setenv("INFLUX_USERNAME", "admin")
    monkeypatch.setenv("INFLUX_PASSWORD", "wrong-" + SECRET)
    result = CliRunner().invoke(app, ["run", "case33bw-outage", "-q", "--influx", url])
    _one_line_error(result, "authentication failed")


def test_credentials_from_environment_work_and_stay_secret(auth_influx, monkeypatch, tmp_path):
    monkeypatch.setenv("INFLUX_USERNAME", "admin")
    monkeypatch.setenv("INFLUX_PASSWORD", SECRET)
    run_dir = tmp_path / "r"
    result = CliRunner().invoke(
        app,
        [
            "run",
            "case33bw-outage",
            "--until",
            "2h",
            "-q",
            "--influx",
            auth_influx.url,
            "--influx-db",
            "secured",
            "--out",
            str(run_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "points written" in result.output and SECRET not in result.output
    for path in run_dir.iterdir():
        if path.is_file():
            assert SECRET not in path.read_text(encoding="utf-8", errors="replace")
    answer = auth_influx.query(
        'SELECT count("vm_pu") FROM "bus"', db="secured", auth=("admin", SECRET)
    )
    assert answer["results"][0]["series"][0]["values"][0][1] == 8 * 33


def test_option_errors(tmp_path):
    runner = CliRunner()
    _one_line_error(
        runner.invoke(app, ["run", "case33bw-outage", "--influx-db", "x"]),
        "--influx-db",
        "without --influx",
    )
    _one_line_error(
        runner.invoke(
            app, ["run", "case33bw-outage", "--influx", "http://x", "--influx-api", "v9"]
        ),
        "--influx-api",
    )
    _one_line_error(
        runner.invoke(app, ["influx-replay", str(tmp_path), "--influx", "http://127.0.0.1:1"]),
        "expected a gridtwin run directory",
    )
    _one_line_error(
        runner.invoke(
            app, ["dashboards", "push", "--grafana-url", f"http://127.0.0.1:{free_port()}"]
        ),
        "cannot reach Grafana",
    )
    _one_line_error(
        runner.invoke(app, ["dashboards", "push", "--grafana-url", "grafana"]), "expected http"
    )


def test_scenario_key_errors(write_scenario):
    from tests.conftest import base_scenario

    path = write_scenario(base_scenario(recording={"influx": {"url": "http://x", "apii": "v1"}}))
    result = CliRunner().invoke(app, ["run", str(path), "-q"])
    _one_line_error(result, "recording.influx", "did you mean 'api'")
    path = write_scenario(
        base_scenario(recording={"influx": {"url": f"http://127.0.0.1:{free_port()}"}})
    )
    result = CliRunner().invoke(app, ["run", str(path), "-q"])
    _one_line_error(result, "recording.influx", "connection refused")
