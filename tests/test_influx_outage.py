"""Faults: influxd stops in the middle of a run (and comes back, or not); nothing is lost.

::

    run ──► sink ──► writer ──X influxd stopped at step 20 ... restarted 3 s later
                        └──► memory queue (50 kB) ──► spill file in the run dir
"""

from __future__ import annotations

import threading

import pytest
from typer.testing import CliRunner

from gridtwin.cli import app
from gridtwin.recording.influx_client import InfluxTarget, connect
from gridtwin.recording.influx_run import SPILL_FILE
from gridtwin.recording.influx_schema import Batch
from gridtwin.recording.influx_writer import InfluxWriter, read_spill
from gridtwin.scenario import InfluxSpec, load_scenario
from gridtwin.world import run_scenario
from tests.conftest import REPO
from tests.influx_helpers import assert_counts_match, parquet_counts
from tests.influx_server import InfluxServer


@pytest.fixture
def own_influx(tmp_path):
    """An influxd of this test alone (it gets stopped and started again)."""
    server = InfluxServer(tmp_path / "influxd")
    server.start()
    yield server
    server.stop()


def _scenario(url: str, **spec):
    sc = load_scenario(REPO / "scenarios" / "mv-rural-day.yaml")
    sc.recording.influx = InfluxSpec(
        url=url, database="out", batch_points=2000, max_delay_s=0.01, max_memory_mb=0.05, **spec
    )
    return sc


def test_outage_and_recovery_lose_nothing_and_duplicate_nothing(own_influx, tmp_path):
    restarted = threading.Event()

    def on_step(done: int) -> None:
        if done == 20:
            own_influx.stop()
            timer = threading.Timer(3.0, lambda: (own_influx.start(), restarted.set()))
            timer.start()

    sc = _scenario(own_influx.url)
    result = run_scenario(sc, out_dir=tmp_path / "outage", on_step=on_step)
    report = result.influx
    assert restarted.is_set()
    assert report.stats.retries > 0 and report.stats.spilled_batches > 0
    assert report.complete, report.as_dict()
    assert report.spill_file is None and not (tmp_path / "outage" / SPILL_FILE).exists()
    assert_counts_match(own_influx, "out", result.run_dir)
    assert report.stats.points == sum(parquet_counts(result.run_dir).values()) + 2  # + kpi


def test_never_back_then_replay_writes_the_whole_run(own_influx, tmp_path):
    def on_step(done: int) -> None:
        if done == 30:
            own_influx.stop()

    sc = _scenario(own_influx.url, drain_timeout_s=0.5)
    result = run_scenario(sc, out_dir=tmp_path / "down", on_step=on_step)
    report = result.influx
    assert result.kpis["run"]["completed"] is True  # the run and its store go on
    assert not report.complete and report.stats.unsent_points > 0
    spill = tmp_path / "down" / SPILL_FILE
    assert report.spill_file == spill and sum(b.n_points for b in read_spill(spill)) > 0
    own_influx.start()
    out = CliRunner().invoke(
        app,
        ["influx-replay", str(result.run_dir), "--influx", own_influx.url, "--influx-db", "out"],
    )
    assert out.exit_code == 0, out.output
    assert "points written" in out.output
    assert_counts_match(own_influx, "out", result.run_dir)
    assert not spill.exists()


def test_writer_delivers_in_order_across_memory_and_spill(own_influx, tmp_path):
    """50 batches overwrite one point while influxd is down; the last one must win."""
    target = InfluxTarget(url=own_influx.url, database="order")
    writer = InfluxWriter(connect(target), tmp_path / "spill.lp", max_memory_bytes=200)
    own_influx.stop()
    for i in range(50):
        writer.put(Batch(f"m,k=x v={i}i,n=1i 1\n".encode() * 3, "s", {"m": 1}))
    assert writer.stats.spilled_batches > 0
    own_influx.start()
    stats = writer.close(drain_timeout_s=30)
    assert stats.points == 50 and stats.unsent_points == 0
    assert not (tmp_path / "spill.lp").exists()
    answer = own_influx.query('SELECT "v" FROM "m"', db="order")
    assert answer["results"][0]["series"][0]["values"] == [[1, 49]]
