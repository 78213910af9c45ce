"""Benchmark of the HTTP service (`gridtwin serve`) against the library; prints markdown.

1. case33bw optimized through the API (upload, session, start, wait, solution)
   against the same work in the library (read the network file, build the
   problem, optimize with the same budget and seed, the solution as JSON);
   and, to separate the API's own cost from pandapower's JSON parser, a
   session on a network already uploaded (the worker keeps its Problem)
   against the library's optimize on a Problem built before. The four paths
   alternate, each repetition in a rotated order; medians, their
   differences, and the median of the paired differences.
2. Requests per second and latency percentiles of the power-flow and assess
   endpoints on SimBench 1-MV-rural--0-sw with 8 concurrent clients.
3. Eight sessions at once (--max-optimizations 8) on MV-rural, seeds 0..7:
   all finish, their elapsed times, and their solutions against the same
   sessions run one by one.

Every server is a real `gridtwin serve` subprocess on a loopback port (see
tests/api_server.py). Run: ``python bench/bench_api.py [--quick]``.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandapower as pp
import pandapower.networks as pn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api_server import ApiServer

BUDGET = 2000
MV = "1-MV-rural--0-sw"


def _wait(c: httpx.Client, sid: str) -> dict[str, Any]:
    """The session once it has ended: ``GET /sessions/{id}?wait_s=60`` (no polling)."""
    while True:
        s = c.get(f"/sessions/{sid}", params={"wait_s": 60}).json()
        if s["status"] not in ("running", "stopping"):
            return s


def _library_case33(path: Path) -> tuple[float, dict[str, Any]]:
    """The library from the file: read the JSON, build the Problem, optimize, to_dict."""
    from gridtwin.controllers.reconfig import Problem
    from gridtwin.grid.sources import normalize_net, read_net_json

    t0 = time.perf_counter()
    net = normalize_net(read_net_json(path))
    problem = Problem.from_net(net, all_lines_switchable=True)
    data = _optimize(problem)
    return time.perf_counter() - t0, data


def _optimize(problem: Any) -> dict[str, Any]:
    from gridtwin.controllers.reconfig import Weights, optimize

    sol = optimize(
        problem,
        weights=Weights.for_objective("losses"),
        max_evaluations=BUDGET,
        time_limit_s=math.inf,
        seed=0,
    )
    return sol.to_dict()


def _library_built(problem: Any) -> tuple[float, dict[str, Any]]:
    """The library on a net parsed and a Problem built before (as the worker keeps them)."""
    t0 = time.perf_counter()
    data = _optimize(problem)
    return time.perf_counter() - t0, data


def _api_case33(c: httpx.Client, body: bytes, network_id: str | None) -> tuple[float, dict]:
    t0 = time.perf_counter()
    if network_id is None:
        r = c.post(
            "/networks?all_lines_switchable=true",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        network_id = r.json()["id"]
    sid = c.post(
        "/sessions",
        json={"network_id": network_id, "objective": "losses", "max_evaluations": BUDGET},
    ).json()["id"]
    c.post(f"/sessions/{sid}/start")
    _wait(c, sid)
    sol = c.get(f"/sessions/{sid}/solution").json()
    return time.perf_counter() - t0, sol


_PATHS = (
    ("lib_file", "library: read JSON, `Problem`, `optimize`, `to_dict`"),
    ("api_upload", "API: upload (pandapower JSON), session, start, wait, solution"),
    ("lib_built", "library: `optimize`, `to_dict` on a net parsed and a `Problem` built before"),
    (
        "api_uploaded",
        "API: session on an uploaded network (the worker has its `Problem`), start, wait, solution",
    ),
)


def bench_case33(root: Path, reps: int) -> None:
    """Part 1: the four paths interleaved, each repetition in a rotated order."""
    from gridtwin.controllers.reconfig import Problem
    from gridtwin.grid.sources import normalize_net, read_net_json

    path = root / "case33bw.json"
    path.write_text(pp.to_json(pn.case33bw()), encoding="utf-8")
    body = path.read_bytes()
    problem = Problem.from_net(normalize_net(read_net_json(path)), all_lines_switchable=True)
    load0 = os.getloadavg()
    srv = ApiServer(root / "s1", max_optimizations=1)  # one worker: its Problem cache is known
    srv.start()
    times: dict[str, list[float]] = {k: [] for k, _ in _PATHS}
    sols: dict[str, dict[str, Any]] = {}
    try:
        with srv.client() as c:
            nid = c.post(
                "/networks?all_lines_switchable=true",
                content=body,
                headers={"Content-Type": "application/json"},
            ).json()["id"]
            run = {
                "lib_file": lambda: _library_case33(path),
                "api_upload": lambda: _api_case33(c, body, None),
                "lib_built": lambda: _library_built(problem),
                "api_uploaded": lambda: _api_case33(c, body, nid),
            }
            for key in run:  # warm-up: imports, compilation, the worker's Problem of nid
                run[key]()
            keys = list(run)
            for i in range(reps):
                for key in keys[i % 4 :] + keys[: i % 4]:
                    t, sols[key] = run[key]()
                    times[key].append(t)
    finally:
        srv.stop()
    load1 = os.getloadavg()
    lib = sols["lib_file"]
    same = all(
        sols[k]["assessment"] == lib["assessment"] and sols[k]["objective"] == lib["objective"]
        for k in sols
    )
    kw = sols["api_upload"]["assessment"]["losses_mwh"] * 1e3
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    print(
        f"## 1. case33bw through the API (budget {BUDGET} evaluations, seed 0, {reps} "
        "repetitions, the four paths interleaved in a rotating order)\n"
    )
    print(
        f"load average (1 min) {load0[0]:.1f} before, {load1[0]:.1f} after "
        f"(5 min: {load0[1]:.1f}, {load1[1]:.1f})\n"
    )
    print(
        "| path | median [ms] | min [ms] | difference of medians [ms] "
        "| median paired difference [ms] | difference of minima [ms] |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    low = {k: min(v) * 1e3 for k, v in times.items()}
    for (key, label), base in zip(_PATHS, (None, "lib_file", None, "lib_built"), strict=True):
        if base is None:
            print(f"| {label} | {med[key]:.1f} | {low[key]:.1f} | – | – | – |")
            continue
        paired = statistics.median(
            (a - b) * 1e3 for a, b in zip(times[key], times[base], strict=True)
        )
        print(
            f"| {label} | {med[key]:.1f} | {low[key]:.1f} | {med[key] - med[base]:+.1f} "
            f"| {paired:+.1f} | {low[key] - low[base]:+.1f} |"
        )
    print(
        f"\nlosses {kw:.2f} kW, open lines {sols['api_upload']['periods'][0]['open_lines']}; "
        f"all four solutions identical (objective, assessment): {same}\n"
    )


def _load(
    url: str, headers: dict[str, str], path: str, body: dict, n_clients: int, per_client: int
) -> tuple[float, list[float], int]:
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as c:
            c.post(path, json=body)  # connection up
            for _ in range(per_client):
                t0 = time.perf_counter()
                r = c.post(path, json=body)
                dt = time.perf_counter() - t0
                with lock:
                    lat.append(dt)
                    errors[0] += r.status_code != 200

    threads = [threading.Thread(target=client) for _ in range(n_clients)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - t0, lat, errors[0]


def bench_endpoints(root: Path, per_client: int) -> None:
    srv = ApiServer(root / "s2", max_optimizations=1)
    srv.start()
    try:
        with srv.client() as c:
            net = c.post("/networks", json={"simbench": MV}).json()
            nid = net["id"]
            sid = c.post("/sessions", json={"network_id": nid}).json()["id"]
            start = c.post(f"/networks/{nid}/power-flow", json={}).json()
            assert start["periods"][0]["converged"]
        # the net's own configuration: the open switchable lines of an assessment
        with srv.client() as c:
            a = c.post(f"/sessions/{sid}/assess", json={"periods": [{"open_lines": []}]}).json()
        open_lines = a["start_open_lines"]
        cases = (
            ("power flow", f"/networks/{nid}/power-flow", {"open_lines": open_lines}),
            ("assess", f"/sessions/{sid}/assess", {"periods": [{"open_lines": open_lines}]}),
        )
        print(f"## 2. Endpoints on {MV} ({net['buses']} buses), 8 concurrent clients\n")
        print(
            "| endpoint | requests | errors | requests/s | p50 [ms] | p99 [ms] "
            "| 1 client p50 [ms] |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for label, path, body in cases:
            _, single, _ = _load(srv.url, srv.headers, path, body, 1, per_client)
            wall, lat, errors = _load(srv.url, srv.headers, path, body, 8, per_client)
            ms = np.array(lat) * 1e3
            print(
                f"| {label} | {len(lat)} | {errors} | {len(lat) / wall:.1f} | "
                f"{np.percentile(ms, 50):.1f} | {np.percentile(ms, 99):.1f} | "
                f"{np.median(single) * 1e3:.1f} |"
            )
        print()
    finally:
        srv.stop()


def _periods(k: int, load_names: list[str]) -> list[dict[str, Any]]:
    """Session k's demand: 4 hourly periods, every load at a factor of its own curve."""
    rows = []
    for t in range(4):
        f = round(0.5 + 0.15 * k + 0.2 * t, 3)
        rows.append(
            {"time": f"2016-01-04T{t:02d}:00:00+01:00", **{f"{n} [pu]": f for n in load_names}}
        )
    return rows


def _run_sessions(
    c: httpx.Client, nid: str, seeds: list[int], budget: int, together: bool, names: list[str]
):
    sids = [
        c.post(
            "/sessions",
            json={
                "network_id": nid,
                "max_evaluations": budget,
                "seed": s,
                "periods": _periods(s, names),
            },
        ).json()["id"]
        for s in seeds
    ]
    out = {}
    t0 = time.perf_counter()
    if together:
        for sid in sids:
            assert c.post(f"/sessions/{sid}/start").status_code == 202
        states = [_wait(c, sid) for sid in sids]
    else:
        states = []
        for sid in sids:
            c.post(f"/sessions/{sid}/start")
            states.append(_wait(c, sid))
    wall = time.perf_counter() - t0
    for seed, sid, st in zip(seeds, sids, states, strict=True):
        sol = c.get(f"/sessions/{sid}/solution").json()
        out[seed] = (st, sol)
    return wall, out


def _load_names() -> list[str]:
    from types import SimpleNamespace

    from gridtwin.grid.sources import load_net
    from gridtwin.grid.topology import element_names

    spec = SimpleNamespace(simbench=MV, pandapower=None, options={}, file=None, cgmes=None)
    return element_names(load_net(spec), "load")


def bench_eight(root: Path, budget: int) -> None:
    srv = ApiServer(root / "s3", max_optimizations=8)
    srv.start()
    try:
        with srv.client(timeout=600) as c:
            nid = c.post("/networks", json={"simbench": MV}).json()["id"]
            names = _load_names()
            seeds = list(range(8))
            _run_sessions(c, nid, seeds, 10, True, names)  # every worker loads the network
            wall_seq, seq = _run_sessions(c, nid, seeds, budget, False, names)
            wall_par, par = _run_sessions(c, nid, seeds, budget, True, names)
    finally:
        srv.stop()

    def key(sol: dict) -> tuple:
        return (sol["objective"], json_dump(sol["periods"]), json_dump(sol["assessment"]))

    identical = all(key(seq[s][1]) == key(par[s][1]) for s in seq)
    finished = sum(par[s][0]["status"] == "finished" for s in par)
    el = [par[s][0]["elapsed_s"] for s in par]
    el_seq = [seq[s][0]["elapsed_s"] for s in seq]
    print(
        f"## 3. Eight sessions at once on {MV} (budget {budget}, seeds 0..7, 4 periods each, "
        "session k's loads at 0.5 + 0.15 k + 0.2 t of their rated power)\n"
    )
    print("| run | wall [s] | session elapsed min / max [s] | finished | objectives |")
    print("| --- | ---: | ---: | ---: | --- |")
    objs = ", ".join(f"{par[s][1]['objective']:.6f}" for s in sorted(par))
    distinct = len({json_dump(par[s][1]["periods"]) for s in par})
    print(
        f"| one by one | {wall_seq:.1f} | {min(el_seq):.2f} / {max(el_seq):.2f} | "
        f"{sum(seq[s][0]['status'] == 'finished' for s in seq)}/8 | |"
    )
    print(
        f"| eight at once | {wall_par:.1f} | {min(el):.2f} / {max(el):.2f} | {finished}/8 "
        f"| {objs} |"
    )
    print(
        f"\nsolutions (objective, plan, assessment) identical one by one and at once: "
        f"{identical}; distinct plans among the 8 seeds: {distinct}\n"
    )


def json_dump(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--part", type=int, choices=(1, 2, 3), help="only this part")
    parser.add_argument(
        "--budget",
        type=int,
        default=300,
        help="evaluations per session in part 3",
    )
    args = parser.parse_args()
    reps, per_client = (5, 10) if args.quick else (21, 40)
    print(f"# gridtwin serve benchmark, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC\n")
    print(f"{os.cpu_count()} cores; load average at the start {os.getloadavg()[0]:.1f}\n")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.part in (None, 1):
            bench_case33(root, reps)
        if args.part in (None, 2):
            bench_endpoints(root, per_client)
        if args.part in (None, 3):
            bench_eight(root, args.budget)


if __name__ == "__main__":
    main()
