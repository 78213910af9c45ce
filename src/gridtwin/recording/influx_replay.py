"""Write a finished run to InfluxDB from its run directory (``gridtwin influx-replay``).

Reads every ``<table>.parquet`` dataset of the run directory part by part and
``kpis.json``, encodes them exactly as the live sink does (same measurements,
tags and simulated-time timestamps) and writes them in order, retrying while
the server is down up to ``give_up_s``. Writing a run twice is harmless:
InfluxDB keeps one point per series and timestamp. Runs recorded in
real-time mode are replayed on simulated time (the Parquet tables do not keep
wall-clock time).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from gridtwin.errors import InputError
from gridtwin.recording.influx_client import (
    InfluxClient,
    InfluxRejectedError,
    InfluxUnavailableError,
)
from gridtwin.recording.influx_schema import (
    Batch,
    RunTags,
    encode_table,
    kpi_batch,
    run_tags_from_net,
)
from gridtwin.timeparse import parse_instant

__all__ = ["read_run_tags", "replay_run"]

log = logging.getLogger("gridtwin.influx")


def read_run_tags(run_dir: Path) -> tuple[RunTags, dict[str, Any]]:
    """The run's tags (with feeders if its network still loads) and its scenario as a dict.

    Raises
    ------
    InputError
        If ``run_dir`` is not a gridtwin run directory.
    """
    path = Path(run_dir) / "scenario.yaml"
    if not path.is_file():
        raise InputError(
            str(run_dir), "", "no scenario.yaml here; expected a gridtwin run directory"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        raise InputError(str(path), "", "not valid YAML; expected the scenario as run") from None
    net = None
    try:
        from gridtwin.grid.sources import load_net

        grid = data.get("grid", {})
        spec = SimpleNamespace(
            simbench=grid.get("simbench"),
            pandapower=grid.get("pandapower"),
            file=grid.get("file"),
            options=grid.get("options") or {},
        )
        net = load_net(spec, str(path))
    except Exception:  # feeders are a nicety; the points are the same without them
        log.warning("replay: network of %s not loadable; no feeder tags", run_dir)
    return run_tags_from_net(_run_id(Path(run_dir)), str(data.get("name", "")), net), data


def _run_id(run_dir: Path) -> str:
    """The run's id from kpis.json (``run.run_id``), else the directory's name."""
    try:
        kpis = json.loads((run_dir / "kpis.json").read_text(encoding="utf-8"))
        return str(kpis["run"]["run_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return run_dir.name


def _write(client: InfluxClient, batch: Batch, give_up_s: float) -> None:
    deadline = time.monotonic() + give_up_s
    delay = 0.1
    while True:
        try:
            client.write(batch.payload, batch.precision)
            return
        except InfluxUnavailableError as exc:
            if time.monotonic() + delay > deadline:
                raise InputError(
                    client.target.source, "", f"InfluxDB at {client.target.safe_url}: {exc}"
                ) from None
            time.sleep(delay)
            delay = min(2.0, delay * 2)


def replay_run(
    run_dir: Path,
    client: InfluxClient,
    *,
    batch_rows: int = 50_000,
    give_up_s: float = 30.0,
    on_batch: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write the whole run in ``run_dir`` to InfluxDB; points written per measurement.

    Raises
    ------
    InputError
        Not a run directory, or the server stayed unreachable for ``give_up_s``
        (one line, no traceback).
    """
    run_dir = Path(run_dir)
    run, scenario = read_run_tags(run_dir)
    written: dict[str, int] = {}

    def send(batch: Batch) -> None:
        if not batch.payload:
            return
        try:
            _write(client, batch, give_up_s)
        except InfluxRejectedError as exc:
            raise InputError(
                client.target.source, "", f"InfluxDB rejected a batch: {exc}"
            ) from None
        for name, n in batch.points.items():
            written[name] = written.get(name, 0) + n
        if on_batch is not None:
            on_batch(batch.n_points)

    for folder in sorted(run_dir.glob("*.parquet")):
        table = folder.name.removesuffix(".parquet")
        for part in sorted(folder.glob("part-*.parquet")):
            for record_batch in pq.ParquetFile(part).iter_batches(batch_size=batch_rows):
                send(encode_table(table, pa.Table.from_batches([record_batch]), run))
    kpis_path = run_dir / "kpis.json"
    if kpis_path.is_file():
        kpis = json.loads(kpis_path.read_text(encoding="utf-8"))
        start = scenario.get("time", {}).get("start")
        start_s = int(parse_instant(start).timestamp()) if start else 0
        send(kpi_batch(kpis, run, start_s + int(kpis.get("run", {}).get("sim_seconds") or 0)))
    return written
