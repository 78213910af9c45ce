"""InfluxDB sink speed: write throughput and a year of MV-rural with and without InfluxDB.

Usage::

    python bench/bench_influx.py [--points 2000000] [--until 366d] [--skip-year]

Starts its own ``influxd`` (Debian package ``influxdb``) in a temporary folder.

1. Throughput, points of four float fields each (one element per bus of a
   100-bus grid, one point per bus and step):

   - reference: a plain batched HTTP write, the line protocol built beforehand
     in Python, 5,000 lines per POST on one kept-alive connection; only the
     writes are timed;
   - gridtwin: the sink as a run uses it, timed from the first per-step array
     to the last acknowledged write: ``InfluxSink.append`` per step, bulk
     encoding, the background writer, ``close``.

2. ``scenarios/mv-rural-year.yaml`` (every table recorded) with the embedded
   Parquet store alone, then with InfluxDB as well (fresh database); time,
   ratio, points and bytes written.

Prints markdown.
"""

from __future__ import annotations

import argparse
import http.client
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.influx_server import InfluxServer  # noqa: E402

N_BUS = 100
FIELDS = ("vm_pu", "va_degree", "p_mw", "q_mvar")


def _data(n_steps: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(1.0, 0.02, size=(n_steps, len(FIELDS), N_BUS))


def reference_write(url: str, db: str, n_steps: int, batch_lines: int = 5000) -> dict:
    """Plain batched HTTP writes of prebuilt line protocol (only the writes timed)."""
    data = _data(n_steps)
    lines = []
    for step in range(n_steps):
        t = 1451602800 + 900 * step
        for b in range(N_BUS):
            v = [float(x) for x in data[step, :, b]]
            lines.append(
                f"bus,run_id=ref,scenario=bench,element=bus\\ {b} "
                f"vm_pu={v[0]!r},va_degree={v[1]!r},p_mw={v[2]!r},q_mvar={v[3]!r} {t}"
            )
    bodies = [
        ("\n".join(lines[i : i + batch_lines]) + "\n").encode()
        for i in range(0, len(lines), batch_lines)
    ]
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    t0 = time.perf_counter()
    for body in bodies:
        conn.request("POST", f"/write?db={db}&precision=s", body=body)
        response = conn.getresponse()
        response.read()
        assert response.status == 204, response.status
    wall = time.perf_counter() - t0
    conn.close()
    return {"points": len(lines), "wall_s": wall, "bytes": sum(map(len, bodies))}


def gridtwin_write(url: str, db: str, n_steps: int, spill: Path) -> dict:
    """The sink as a run uses it: per-step appends, bulk encoding, background writer."""
    from gridtwin.recording.influx_client import InfluxTarget, connect
    from gridtwin.recording.influx_schema import RunTags
    from gridtwin.recording.influx_sink import InfluxSink
    from gridtwin.recording.influx_writer import InfluxWriter
    from gridtwin.recording.store import TableSpec

    data = _data(n_steps)
    client = connect(InfluxTarget(url=url, database=db))
    writer = InfluxWriter(client, spill)
    spec = TableSpec([f"bus {b}" for b in range(N_BUS)], dict.fromkeys(FIELDS, np.dtype("f8")))
    sink = InfluxSink(writer, RunTags("gridtwin", "bench"), 1451602800, {"bus": spec})
    t0 = time.perf_counter()
    for step in range(n_steps):
        sink.append("bus", 900 * step, {f: data[step, i] for i, f in enumerate(FIELDS)})
    stats = sink.close()
    wall = time.perf_counter() - t0
    assert stats.points == n_steps * N_BUS and stats.unsent_points == 0
    return {"points": stats.points, "wall_s": wall, "bytes": stats.bytes}


def encode_only(n_steps: int) -> dict:
    """Encoding alone (no network): lines per second of the bulk encoder."""
    import pyarrow as pa

    from gridtwin.recording.influx_schema import RunTags, encode_table

    data = _data(n_steps)
    n = n_steps * N_BUS
    table = pa.table(
        {
            "time": pa.array(
                (np.repeat(np.arange(n_steps) * 900, N_BUS) + 1451602800).astype("datetime64[s]"),
                pa.timestamp("s", "UTC"),
            ),
            "element": pa.DictionaryArray.from_arrays(
                pa.array(np.tile(np.arange(N_BUS, dtype=np.int32), n_steps)),
                pa.array([f"bus {b}" for b in range(N_BUS)]),
            ),
            **{f: pa.array(data[:, i, :].reshape(-1)) for i, f in enumerate(FIELDS)},
        }
    )
    t0 = time.perf_counter()
    batch = encode_table("bus", table, RunTags("enc", "bench"))
    wall = time.perf_counter() - t0
    return {"points": n, "wall_s": wall, "bytes": len(batch.payload)}


def year(url: str | None, until: str | None, out: Path) -> dict:
    from gridtwin.scenario import InfluxSpec, load_scenario
    from gridtwin.timeparse import parse_duration_s
    from gridtwin.world import prepare, run_scenario

    sc = load_scenario(REPO / "scenarios" / "mv-rural-year.yaml")
    if until:
        sc.time.duration = parse_duration_s(until)
    if url:
        sc.recording.influx = InfluxSpec(url=url, database="year", drain_timeout_s=3600)
    prepared = prepare(sc)
    t0 = time.perf_counter()
    result = run_scenario(sc, out_dir=out, prepared=prepared)
    wall = time.perf_counter() - t0
    row = {"steps": sc.n_steps, "wall_s": wall, "rows": sum(result.rows_written.values())}
    if result.influx is not None:
        s = result.influx.stats
        row |= {"points": s.points, "bytes": s.bytes, "complete": result.influx.complete}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2_000_000, help="throughput points")
    parser.add_argument("--until", default=None, help="shorten the year run, e.g. 30d")
    parser.add_argument("--skip-year", action="store_true")
    args = parser.parse_args()
    n_steps = args.points // N_BUS
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        server = InfluxServer(tmp_path / "influxd")
        server.start()
        try:
            server.query("CREATE DATABASE ref")
            server.query("CREATE DATABASE sink")
            ref = reference_write(server.url, "ref", n_steps)
            ours = gridtwin_write(server.url, "sink", n_steps, tmp_path / "spill.lp")
            enc = encode_only(n_steps)
            print(
                f"# InfluxDB sink benchmark ({platform.processor() or platform.machine()}, "
                f"{platform.python_version()}, InfluxDB 1.6 local)\n"
            )
            print("## Write throughput, points of four float fields\n")
            print("| writer | points | bytes | wall [s] | points/s |")
            print("| --- | ---: | ---: | ---: | ---: |")
            for name, row in (
                ("plain batched HTTP write (prebuilt lines, 5,000/POST)", ref),
                ("gridtwin sink (append per step → encode → writer thread)", ours),
                ("gridtwin encoder alone (no network)", enc),
            ):
                print(
                    f"| {name} | {row['points']:,} | {row['bytes']:,} | {row['wall_s']:.2f} | "
                    f"{row['points'] / row['wall_s']:,.0f} |"
                )
            ratio = (ours["points"] / ours["wall_s"]) / (ref["points"] / ref["wall_s"])
            print(f"\ngridtwin sink / plain write: {ratio:.2f}× (target ≥ 250,000 points/s)\n")
            if not args.skip_year:
                alone = year(None, args.until, tmp_path / "year-parquet")
                both = year(server.url, args.until, tmp_path / "year-influx")
                label = args.until or "366d"
                print(f"## MV-rural, {label} ({alone['steps']:,} steps), every table recorded\n")
                print("| recording | wall [s] | Parquet rows | InfluxDB points | bytes | ratio |")
                print("| --- | ---: | ---: | ---: | ---: | ---: |")
                print(
                    f"| Parquet store alone | {alone['wall_s']:.1f} | {alone['rows']:,} "
                    "| – | – | 1.00 |"
                )
                print(
                    f"| Parquet + InfluxDB | {both['wall_s']:.1f} | {both['rows']:,} | "
                    f"{both['points']:,} | {both['bytes']:,} | "
                    f"{both['wall_s'] / alone['wall_s']:.2f} |"
                )
                print(f"\ncomplete: {both['complete']}; target ratio ≤ 2")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
