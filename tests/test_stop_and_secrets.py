"""Stopping a run by a signal, and credentials that must never reach a file or the terminal.

::

    gridtwin run (subprocess) ◄── SIGTERM / SIGINT ──► kpis.json completed false, tables flushed,
                                                       one line naming the run directory
    --influx http://admin:SECRET@...  ─┐
    recording.influx.url with SECRET  ─┼─► run dir, run.log, stdout, stderr: no SECRET
    INFLUX_PASSWORD, GRIDTWIN_INFLUX_TOKEN ┘
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gridtwin.cli import app
from gridtwin.errors import InputError
from gridtwin.redact import MASK, redact_text
from tests.conftest import base_scenario
from tests.influx_server import InfluxServer

SECRET = "Xy9-very-secret-pw"


def _long_scenario(tmp_path: Path) -> Path:
    data = base_scenario(recording={"flush_every_steps": 20})
    data["time"]["duration"] = "365d"
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_the_run_in_order(tmp_path, sig, code):
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "gridtwin", "run", str(_long_scenario(tmp_path))),
            *("-q", "--out", str(run_dir)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not list((run_dir / "grid.parquet").glob("*.parquet")):  # the run is stepping
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.2)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    kpis = json.loads((run_dir / "kpis.json").read_text())
    steps = kpis["run"]["steps"]
    assert kpis["run"]["completed"] is False and 0 < steps < 35040
    assert lines[0] == (
        f"interrupted ({sig.name}): {steps:,} of 35,040 steps; the incomplete run is in {run_dir}"
    )
    for table in ("grid", "bus", "line", "load"):  # every recorded step flushed
        assert pd.read_parquet(run_dir / f"{table}.parquet")["sim_time_s"].nunique() == steps


# --- credentials ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    # userinfo of RFC 3986 ends at '?' and '#'; '&' would start a (masked) query parameter
    user=st.text(
        st.characters(
            blacklist_characters=":/@'\"?#&", blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")
        ),
        max_size=8,
    ),
    password=st.text(
        st.characters(
            blacklist_characters="/'\"", blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")
        ),
        min_size=1,
        max_size=16,
    ),
    scheme=st.sampled_from(["http", "https", "HTTP"]),
    host=st.sampled_from(["localhost:8086", "10.0.0.1", "influx.example.org/path"]),
    around=st.sampled_from(["{}", "got '{}'; expected", "url: {} and more"]),
)
def test_redaction_removes_any_url_password(user, password, scheme, host, around):
    # The whole text is compared with what it must become: the password's span, and only it,
    # is replaced (a password that happens to be a word of the text cannot make this fail).
    url = f"{scheme}://{user}:{password}@{host}"
    masked = f"{scheme}://{user}:{MASK}@{host}"
    assert redact_text(around.format(url)) == around.format(masked)
    error = InputError("--influx", "url", f"got {url!r}; expected something")
    assert str(error) == f"--influx: url: got {masked!r}; expected something"


@pytest.mark.parametrize("name", ["p", "password", "token", "Token", "pwd"])
def test_redaction_removes_secret_query_parameters(name):
    text = redact_text(f"http://h:8086/write?db=x&{name}={SECRET}&u=admin")
    assert SECRET not in text and f"{name}={MASK}" in text and "db=x" in text


@pytest.fixture(scope="module")
def auth_influx(tmp_path_factory):
    server = InfluxServer(tmp_path_factory.mktemp("influxd-auth"), auth=True)
    server.start()
    server.create_admin("admin", SECRET)
    yield server
    server.stop()


def _no_secret_anywhere(run_dir: Path, *texts: str) -> None:
    for text in texts:
        assert SECRET not in text
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert any(p.name == "scenario.yaml" for p in files) and any(p.name == "run.log" for p in files)
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path


def _url_with_password(server: InfluxServer) -> str:
    return server.url.replace("://", f"://admin:{SECRET}@")


def test_password_in_the_influx_option_is_used_but_never_written(auth_influx, tmp_path):
    run_dir = tmp_path / "r"
    result = CliRunner().invoke(
        app,
        [
            *("run", "case33bw-outage", "--until", "2h", "-q", "--out", str(run_dir)),
            *("--influx", _url_with_password(auth_influx), "--influx-db", "viaurl"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "points written" in result.output
    _no_secret_anywhere(run_dir, result.output, result.stderr)
    dumped = yaml.safe_load((run_dir / "scenario.yaml").read_text())
    assert dumped["recording"]["influx"]["url"] == auth_influx.url.replace("://", "://admin:***@")


def test_password_in_the_scenario_key_is_used_but_never_written(auth_influx, tmp_path):
    data = base_scenario(
        recording={"influx": {"url": _url_with_password(auth_influx), "database": "viakey"}}
    )
    data["time"]["duration"] = "1h"
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    run_dir = tmp_path / "r"
    result = CliRunner().invoke(app, ["run", str(path), "-q", "--out", str(run_dir)])
    assert result.exit_code == 0, result.output
    _no_secret_anywhere(run_dir, result.output, result.stderr)
    validated = CliRunner().invoke(app, ["validate", str(path)])
    assert validated.exit_code == 0 and SECRET not in validated.output


@pytest.mark.parametrize(
    ("variables", "server"),
    [
        ({"INFLUX_USERNAME": "admin", "INFLUX_PASSWORD": SECRET}, "auth_influx"),
        # sent as "Authorization: Token ..."; this influxd has no token auth: one without auth
        ({"GRIDTWIN_INFLUX_TOKEN": SECRET}, "influx"),
    ],
)
def test_credentials_from_the_environment_never_written(
    request, tmp_path, monkeypatch, variables, server
):
    url = request.getfixturevalue(server).url
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    run_dir = tmp_path / "r"
    result = CliRunner().invoke(
        app,
        [
            *("run", "case33bw-outage", "--until", "2h", "-q", "--out", str(run_dir)),
            *("--influx", url, "--influx-db", "viaenv"),
        ],
    )
    assert result.exit_code == 0, result.output
    _no_secret_anywhere(run_dir, result.output, result.stderr)


@pytest.mark.parametrize(
    "url",
    [
        f"http://admin:{SECRET}@127.0.0.1:99999",
        f"ftp://admin:{SECRET}@host",
        "http://x?p=" + SECRET,
    ],
)
def test_a_bad_url_with_a_password_is_refused_without_showing_it(tmp_path, url):
    result = CliRunner().invoke(app, ["run", "case33bw-outage", "-q", "--influx", url])
    if "?p=" not in url:
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: --influx: url: got ")
    assert SECRET not in result.output
    data = base_scenario(recording={"influx": {"url": url}})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    validated = CliRunner().invoke(app, ["validate", str(path)])
    if "?p=" not in url:
        assert validated.exit_code == 2
        assert validated.stderr.startswith(f"error: {path}: recording.influx.url: got ")
    assert SECRET not in validated.output


# --- credentials through sweep -----------------------------------------------------------


def test_a_sweep_error_text_is_redacted():
    """Any failure of a variant (not only an InputError) reaches the table without its secret."""
    from gridtwin.sweeps.task import _one_line

    exc = RuntimeError(f"cannot reach http://admin:{SECRET}@db:8086/write?db=x&p={SECRET}")
    text = _one_line(exc)
    assert SECRET not in text and text.startswith("RuntimeError: cannot reach http://admin:***@")


def test_no_secret_reaches_the_sweep_directory_or_output(tmp_path, influx):
    """A password in the influx URL of the base scenario and of a sweep axis (one reachable
    server, one that is not): no file of the sweep directory, nor its output, holds it."""
    port = influx.url.rsplit(":", 1)[1]
    base = base_scenario(recording={"influx": {"url": f"http://admin:{SECRET}@127.0.0.1:{port}"}})
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    urls = [f"http://admin:{SECRET}@127.0.0.1:{port}", f"http://admin:{SECRET}@127.0.0.1:1"]
    sweep = {"base": "base.yaml", "axes": {"recording.influx.url": urls}, "report": "all"}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
    out = tmp_path / "out"
    command = ["sweep", str(tmp_path / "sweep.yaml"), "--workers", "1", "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, "-m", "gridtwin", *command],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    table = pd.read_parquet(out / "sweep.parquet")
    assert sorted(table["status"]) == ["failed", "ok"], (proc.stdout, proc.stderr, table)
    assert SECRET not in proc.stdout + proc.stderr
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files) and any(p.name == "run.log" for p in files)
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path
    assert f"admin:{MASK}@127.0.0.1:1" in " ".join(map(str, table["recording.influx.url"]))


# --- credentials through serve -------------------------------------------------------------


def test_no_secret_reaches_the_serve_log(tmp_path):
    """The service's token comes from the environment and is never logged; a client that puts
    a secret in a query string (``?token=``, ``?password=``) does not get it into the log."""
    from tests.api_server import ApiServer

    server = ApiServer(tmp_path / "api", token=SECRET)
    server.start()
    try:
        with server.client() as client:
            assert client.get("/networks").status_code == 200
            client.get(f"/networks?token={SECRET}&password={SECRET}")
            client.get(f"/networks/x?p={SECRET}", headers={"Authorization": "Bearer wrong"})
    finally:
        server.stop()
    log = server.log()
    assert "GET /networks" in log and "token=***" in log, log
    assert SECRET not in log
