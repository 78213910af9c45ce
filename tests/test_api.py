"""The HTTP service as a user runs it: a real `gridtwin serve` subprocess, a real HTTP client.

One server per module (token auth on, 1 MB upload limit, 2 optimizations at
once), started on a free loopback port with a temporary --data folder.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from tests.api_server import ApiServer

TOKEN = "tok-3b1f0c9e7a52d4"
PROBLEM = "application/problem+json"
CASE33_BUDGET = 2000  # reaches 139.55 kW and ends by itself (bench/bench_api.py)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    srv = ApiServer(
        tmp_path_factory.mktemp("api"), token=TOKEN, max_upload_mb=1, max_optimizations=2
    )
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server: ApiServer) -> Any:
    with server.client() as c:
        yield c


@pytest.fixture(scope="module")
def case33(client: httpx.Client) -> str:
    body = pp.to_json(pn.case33bw())
    r = client.post(
        "/networks?all_lines_switchable=true&name=case33bw",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture(scope="module")
def mv_rural(client: httpx.Client) -> str:
    """SimBench 1-MV-rural--0-sw: a weighted search of several seconds, stopped early."""
    r = client.post("/networks", json={"simbench": "1-MV-rural--0-sw"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _wait(client: httpx.Client, sid: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        s = client.get(f"/sessions/{sid}").json()
        if s["status"] not in ("running", "stopping"):
            return s
        time.sleep(0.05)
    raise AssertionError(f"session {sid} still running")


def _session(client: httpx.Client, **body: Any) -> str:
    r = client.post("/sessions", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _long_periods() -> list[dict[str, Any]]:
    """24 hourly periods of case33bw's loads on a daily curve (a long weighted search)."""
    net = pn.case33bw()
    rows = []
    for t in range(24):
        f = 0.6 + 0.4 * math.sin(t / 24 * 2 * math.pi)
        row: dict[str, Any] = {"time": f"2024-01-01T{t:02d}:00:00+00:00"}
        for i, p in net.load["p_mw"].items():
            row[f"{i} [MW]"] = round(float(p) * f, 6)
        rows.append(row)
    return rows


def assert_problem(r: httpx.Response, status: int, field: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    doc = r.json()
    assert doc["status"] == status
    assert doc["field"] == field, doc
    assert doc["type"].startswith("urn:gridtwin:problem:")
    assert "\n" not in doc["detail"] and "Traceback" not in doc["detail"]
    return doc


def test_network_summary_and_openapi(client: httpx.Client, case33: str) -> None:
    net = client.get(f"/networks/{case33}").json()
    assert (net["buses"], net["lines"], net["switches"], net["loops"]) == (33, 37, 0, 5)
    assert net["radial_capable"] is True
    assert case33 in [n["id"] for n in client.get("/networks").json()]
    spec = client.get("/openapi.json").json()
    for path in ("/networks", "/sessions/{session_id}/start", "/networks/{network_id}/power-flow"):
        assert path in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_case33bw_optimum_through_the_api(client: httpx.Client, case33: str) -> None:
    from gridtwin.controllers.reconfig import Problem, Weights, optimize

    sid = _session(client, network_id=case33, objective="losses", max_evaluations=CASE33_BUDGET)
    assert client.get(f"/sessions/{sid}").json()["status"] == "created"
    r = client.post(f"/sessions/{sid}/start")
    assert r.status_code == 202 and r.json()["status"] == "running"
    status = client.get(f"/sessions/{sid}", params={"wait_s": 60}).json()  # until it ends
    assert status["status"] == "finished"
    assert status["power_flows"] > 0 and status["elapsed_s"] > 0
    sol = client.get(f"/sessions/{sid}/solution").json()
    assert sol["final"] is True and sol["source"] == "optimizer"
    assert round(sol["assessment"]["losses_mwh"] * 1e3, 2) == 139.55
    assert sol["periods"][0]["open_lines"] == [6, 8, 13, 31, 36]
    assert sol["assessment"]["feasible"] is True
    lib = optimize(
        Problem.from_net(pn.case33bw(), all_lines_switchable=True),
        weights=Weights.for_objective("losses"),
        max_evaluations=CASE33_BUDGET,
        time_limit_s=math.inf,
    )
    assert sol["objective"] == lib.objective
    assert sol["assessment"] == lib.to_dict()["assessment"]
    assert status["evaluations"] == sol["evaluations"] == lib.evaluations > 0
    assert status["power_flows"] == lib.power_flows


def test_concurrent_sessions_equal_the_library(client: httpx.Client, case33: str) -> None:
    """Two sessions at once with small budgets (seed-dependent results) = library runs."""
    from gridtwin.controllers.reconfig import Problem, Weights, optimize

    seeds = (3, 4)
    sids = [
        _session(client, network_id=case33, objective="losses", max_evaluations=150, seed=s)
        for s in seeds
    ]
    for sid in sids:
        assert client.post(f"/sessions/{sid}/start").status_code == 202
    got = []
    for sid in sids:
        assert _wait(client, sid)["status"] == "finished"
        got.append(client.get(f"/sessions/{sid}/solution").json())
    for seed, sol in zip(seeds, got, strict=True):
        lib = optimize(
            Problem.from_net(pn.case33bw(), all_lines_switchable=True),
            weights=Weights.for_objective("losses"),
            max_evaluations=150,
            time_limit_s=math.inf,
            seed=seed,
        )
        assert sol["objective"] == lib.objective
        assert sol["periods"][0]["open_lines"] == lib.open_lines()


def test_stop_and_status_and_concurrency_limit(client: httpx.Client, mv_rural: str) -> None:
    sids = [_session(client, network_id=mv_rural, max_evaluations=10**7, seed=s) for s in (0, 1, 2)]
    assert client.post(f"/sessions/{sids[0]}/start").status_code == 202
    assert client.post(f"/sessions/{sids[1]}/start").status_code == 202
    r = client.post(f"/sessions/{sids[2]}/start")
    doc = assert_problem(r, 429, "")
    assert r.headers["retry-after"] == "1" and "at most 2" in doc["detail"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        both = [client.get(f"/sessions/{sid}").json() for sid in sids[:2]]
        if all(b["best_objective"] is not None and b["evaluations"] for b in both):
            break
        time.sleep(0.1)
    s = both[0]
    assert s["status"] == "running" and s["periods"] == 1
    waited = client.get(f"/sessions/{sids[0]}", params={"wait_s": 0.2}).json()
    assert waited["status"] == "running"  # it runs on: the wait ends at wait_s
    assert_problem(client.get(f"/sessions/{sids[0]}", params={"wait_s": 61}), 422, "wait_s")
    assert s["evaluations"] > 0 and s["evaluations"] == s["power_flows"]
    partial = client.get(f"/sessions/{sids[0]}/solution").json()
    assert partial["final"] is False and partial["objective"] == s["best_objective"]
    assert_problem(client.post(f"/sessions/{sids[0]}/start"), 409, "session_id")
    for sid in sids[:2]:
        assert client.post(f"/sessions/{sid}/stop").status_code == 202
    for sid in sids[:2]:
        s = _wait(client, sid, timeout_s=30)
        assert s["status"] == "stopped"
        sol = client.get(f"/sessions/{sid}/solution").json()
        assert sol["status"] == "stopped" and sol["final"] is True
        assert sol["objective"] <= s["best_objective"] + 1e-9
        assert sol["assessment"]["cost"]["total"] == pytest.approx(sol["objective"], rel=1e-9)
    assert_problem(client.post(f"/sessions/{sids[0]}/stop"), 409, "session_id")
    assert client.post(f"/sessions/{sids[2]}/start").status_code == 202
    assert client.post(f"/sessions/{sids[2]}/stop").status_code == 202
    assert _wait(client, sids[2], timeout_s=30)["status"] == "stopped"


def test_user_solution_added_and_assessed(client: httpx.Client, case33: str) -> None:
    sid = _session(client, network_id=case33, objective="losses")
    mine = {"periods": [{"open_lines": [6, 8, 13, 31, 36]}]}
    r = client.post(f"/sessions/{sid}/solutions", json=mine)
    assert r.status_code == 201, r.text
    added = r.json()
    assert added["source"] == "user" and added["feasible"] is True
    assert round(added["assessment"]["losses_mwh"] * 1e3, 2) == 139.55
    assert added["assessment"]["periods"][0]["open_lines"] == [6, 8, 13, 31, 36]
    assert client.get(r.headers["location"]).json()["id"] == added["id"]
    # the best solution of a session never started: the best feasible user solution
    assert client.get(f"/sessions/{sid}/solution").json()["id"] == added["id"]
    meshed = client.post(f"/sessions/{sid}/assess", json={"periods": [{"open_lines": [6]}]})
    assert meshed.status_code == 200
    assessed = meshed.json()["assessment"]
    assert assessed["feasible"] is False and assessed["reasons"]
    assert [s["id"] for s in client.get(f"/sessions/{sid}/solutions").json()] == [added["id"]]


def test_power_flow_per_period(client: httpx.Client, case33: str) -> None:
    r = client.post(f"/networks/{case33}/power-flow", json={"open_lines": [6, 8, 13, 31, 36]})
    assert r.status_code == 200, r.text
    one = r.json()
    assert one["engine"] == "power-grid-model" and len(one["bus_index"]) == 33
    assert round(one["periods"][0]["losses_mw"] * 1e3, 2) == 139.55
    rows = _long_periods()[:3]
    r = client.post(
        f"/networks/{case33}/power-flow", json={"open_lines": [32, 33, 34, 35, 36], "periods": rows}
    )
    per = r.json()["periods"]
    assert len(per) == 3 and all(p["converged"] for p in per)
    losses = [p["losses_mw"] for p in per]
    assert losses[0] < losses[1] < losses[2]  # loads rise over the first hours
    assert min(per[2]["bus_vm_pu"]) < min(per[0]["bus_vm_pu"])


def test_errors_are_problem_documents(client: httpx.Client, case33: str, server: ApiServer) -> None:
    raw = {"Content-Type": "application/json"}
    assert_problem(client.post("/sessions", content=b"{nope", headers=raw), 400, "body")
    assert_problem(client.post("/networks", content=b"[1,", headers=raw), 400, "body")
    sid = _session(client, network_id=case33)
    for url in (f"/sessions/{sid}/assess", "/sessions", f"/networks/{case33}/power-flow"):
        doc = assert_problem(client.post(url, json=[1, 2]), 422, "body")  # not an object
        assert doc["detail"] == "body: got [1, 2]; expected a JSON object"
    assert_problem(client.post("/sessions", json={"network_id": "net-x"}), 404, "network_id")
    assert_problem(client.get("/sessions/ses-unknown"), 404, "session_id")
    assert_problem(client.get("/networks/net-unknown"), 404, "network_id")
    assert_problem(client.get("/runs/nope/kpis"), 404, "run_id")
    assert_problem(client.get("/no/such/route"), 404, "")
    assert_problem(
        client.post("/sessions", json={"network_id": case33, "weights": {"losses": -1}}),
        422,
        "weights.losses",
    )
    assert_problem(
        client.post("/sessions", json={"network_id": case33, "budget": 3}), 422, "budget"
    )
    doc = assert_problem(
        client.post("/sessions", json={"network_id": case33, "periods": [{"Load 99 [MW]": 0.1}]}),
        422,
        "periods.Load 99 [MW]",
    )
    assert "no load named 'Load 99'" in doc["detail"]
    doc = assert_problem(
        client.post(f"/sessions/{sid}/solutions", json={"periods": [{"open_lines": [99]}]}),
        422,
        "periods[0].open_lines",
    )
    assert "line 99 is not a switchable line" in doc["detail"]
    assert_problem(
        client.post(f"/networks/{case33}/power-flow", json={"open_lines": [77]}),
        422,
        "open_lines[0]",
    )
    assert_problem(
        client.post("/networks", content=b"x", headers={"Content-Type": "text/plain"}),
        415,
        "Content-Type",
    )
    assert_problem(client.post("/networks", json={"simbench": "1-MV-nope"}), 422, "body.simbench")
    # a network that is not radial-capable: a switchless mesh
    mesh = pn.case9()
    r = client.post("/networks", content=pp.to_json(mesh), headers=raw)
    assert r.status_code == 201 and r.json()["radial_capable"] is False
    doc = assert_problem(
        client.post("/sessions", json={"network_id": r.json()["id"]}), 422, "network_id"
    )
    assert "not radial-capable" in doc["detail"]
    # an upload over the limit (1 MB), declared and streamed
    big = b"{" + b" " * (1024 * 1024 + 10) + b"}"
    assert_problem(client.post("/networks", content=big, headers=raw), 413, "body")

    def chunks() -> Any:
        for _ in range(20):
            yield b" " * 100_000

    assert_problem(client.post("/networks", content=chunks(), headers=raw), 413, "body")
    log = server.log()
    assert "Traceback" not in log, log[log.find("Traceback") - 300 :][:3000]


def test_delete_network_removes_everything(client: httpx.Client, server: ApiServer) -> None:
    """DELETE /networks/{id}: 409 while a session runs; then 204 and nothing left, files too."""
    r = client.post("/networks?name=to-delete", json={"simbench": "1-MV-rural--0-sw"})
    assert r.status_code == 201, r.text
    nid = r.json()["id"]
    periods = [{"time": "2024-01-01T00:00:00+00:00"}, {"time": "2024-01-01T01:00:00+00:00"}]
    idle = _session(client, network_id=nid, periods=periods)
    busy = _session(client, network_id=nid, max_evaluations=10**7)  # runs for seconds
    assert client.post(f"/sessions/{busy}/start").status_code == 202
    files = [
        server.data / "networks" / f"{nid}.json",
        server.data / "networks" / f"{nid}.net.pkl",
        server.data / "sessions" / idle / "periods.csv",
    ]
    assert all(f.is_file() for f in files)
    doc = assert_problem(client.delete(f"/networks/{nid}"), 409, "network_id")
    assert "running" in doc["detail"]
    assert client.get(f"/networks/{nid}").status_code == 200  # nothing deleted
    client.post(f"/sessions/{busy}/stop")  # 202, or 409 if it has just finished by itself
    assert _wait(client, busy)["status"] in ("stopped", "finished")
    assert (server.data / "sessions" / busy).is_dir()
    r = client.delete(f"/networks/{nid}")
    assert r.status_code == 204 and r.content == b""
    assert_problem(client.get(f"/networks/{nid}"), 404, "network_id")
    for sid in (idle, busy):
        assert_problem(client.get(f"/sessions/{sid}"), 404, "session_id")
        assert_problem(client.get(f"/sessions/{sid}/solutions"), 404, "session_id")
        assert not (server.data / "sessions" / sid).exists()
    assert not any(f.exists() for f in files)
    assert not list((server.data / "networks").glob(f"{nid}*"))
    assert nid not in [n["id"] for n in client.get("/networks").json()]
    assert {idle, busy}.isdisjoint(s["id"] for s in client.get("/sessions").json())
    assert_problem(client.delete(f"/networks/{nid}"), 404, "network_id")
    assert_problem(client.post("/sessions", json={"network_id": nid}), 404, "network_id")


def test_token_auth(server: ApiServer, case33: str) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as anon:
        doc = assert_problem(anon.get("/networks"), 401, "Authorization")
        assert "missing" in doc["detail"]
        wrong = "Bearer wrong-" + TOKEN[::-1]
        r = anon.get(f"/networks/{case33}", headers={"Authorization": wrong})
        assert_problem(r, 401, "Authorization")
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert_problem(anon.get("/openapi.json"), 401, "Authorization")
    log = server.log()
    assert "GET /networks" in log  # the access log is there ...
    assert TOKEN not in log and TOKEN[::-1] not in log  # ... without any token


def test_refuses_non_loopback_without_token(tmp_path: Path) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if k != "GRIDTWIN_API_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "gridtwin", "serve", "--host", "0.0.0.0", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --host: got '0.0.0.0'")
    assert "GRIDTWIN_API_TOKEN" in lines[0]


def test_runs(client: httpx.Client, server: ApiServer, repo: Path) -> None:
    out = server.data / "runs" / "outage-2h"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gridtwin",
            "run",
            str(repo / "scenarios" / "case33bw-outage.yaml"),
            "--until",
            "2h",
            "--out",
            str(out),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    runs = {r["run_id"]: r for r in client.get("/runs").json()}
    assert runs["outage-2h"]["kpis"] is True
    kpis = client.get("/runs/outage-2h/kpis").json()
    assert kpis == json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assert kpis["run"]["steps"] == 8
    r = client.get("/runs/outage-2h/report")  # `gridtwin run` always writes report.html
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.content == (out / "report.html").read_bytes()
    assert_problem(client.get("/runs/no-such-run/report"), 404, "run_id")


def test_restart_keeps_everything(
    client: httpx.Client, server: ApiServer, case33: str, mv_rural: str
) -> None:
    """Kill the server (SIGKILL) while a session runs; after a restart everything is there."""
    done = _session(client, network_id=case33, objective="losses", max_evaluations=CASE33_BUDGET)
    client.post(f"/sessions/{done}/start")
    assert _wait(client, done)["status"] == "finished"
    finished = client.get(f"/sessions/{done}/solution").json()
    mine = client.post(
        f"/sessions/{done}/solutions", json={"periods": [{"open_lines": [32, 33, 34, 35, 36]}]}
    ).json()
    running = _session(client, network_id=mv_rural, max_evaluations=10**7)
    client.post(f"/sessions/{running}/start")
    deadline = time.monotonic() + 60
    while client.get(f"/sessions/{running}").json()["best_objective"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    server.kill()
    server.start()
    with server.client() as c:
        assert case33 in [n["id"] for n in c.get("/networks").json()]
        assert c.get(f"/sessions/{done}").json()["status"] == "finished"
        assert c.get(f"/sessions/{done}/solution").json() == finished
        assert c.get(f"/sessions/{done}/solutions/{mine['id']}").json() == mine
        s = c.get(f"/sessions/{running}").json()
        assert s["status"] == "interrupted" and s["interrupted"] is True
        assert "was running" in s["error"]
        partial = c.get(f"/sessions/{running}/solution").json()
        assert partial["final"] is False and partial["objective"] is not None
        time.sleep(1.0)  # the killed server's worker has exited (orphan watchdog)
        assert c.get(f"/sessions/{running}").json()["status"] == "interrupted"
        # it can be started again, and stopped
        assert c.post(f"/sessions/{running}/start").status_code == 202
        assert c.post(f"/sessions/{running}/stop").status_code == 202
        assert _wait(c, running, timeout_s=30)["status"] == "stopped"


@pytest.mark.parametrize("version", ["2.4.15", "3.0"])
def test_cgmes_through_the_api(client: httpx.Client, tmp_path: Path, version: str) -> None:
    pn_pow = pytest.importorskip("pypowsybl.network")
    path = tmp_path / "ieee9.zip"
    params = {"iidm.export.cgmes.cim-version": "100"} if version == "3.0" else {}
    pn_pow.create_ieee9().save(str(path), format="CGMES", parameters=params)
    r = client.post(
        "/networks?name=ieee9",
        content=path.read_bytes(),
        headers={"Content-Type": "application/zip"},
    )
    assert r.status_code == 201, r.text
    net = r.json()
    assert net["kind"] == "cgmes" and net["buses"] == 9 and net["radial_capable"] is False
    flow = client.post(f"/networks/{net['id']}/power-flow", json={}).json()
    assert flow["engine"] == "pandapower" and flow["periods"][0]["converged"]
    from gridtwin.grid.cgmes import read_cgmes
    from gridtwin.grid.factory import make_engine
    from gridtwin.grid.sources import normalize_net
    from gridtwin.grid.state import GridState

    direct = normalize_net(read_cgmes(path))
    ref = make_engine("pandapower", direct).solve(GridState.from_net(direct))
    assert np.allclose(flow["periods"][0]["bus_vm_pu"], ref.bus_vm_pu, atol=1e-9)
    doc = assert_problem(
        client.post(
            "/networks", content=b"PK\x03\x04broken", headers={"Content-Type": "application/zip"}
        ),
        422,
        "body",
    )
    assert "not a zip file" in doc["detail"]
