"""Helpers of the InfluxDB tests: count points per measurement, both in InfluxDB and Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.dataset as ds

from gridtwin.recording.influx_schema import table_map


def parquet_counts(run_dir: Path) -> dict[tuple[str, str | None], int]:
    """Rows per (measurement, kind) of every Parquet table of a run."""
    counts: dict[tuple[str, str | None], int] = {}
    for folder in sorted(Path(run_dir).glob("*.parquet")):
        tmap = table_map(folder.name.removesuffix(".parquet"))
        key = (tmap.measurement, tmap.kind)
        counts[key] = counts.get(key, 0) + ds.dataset(folder).count_rows()
    return counts


def influx_count(server, db: str, run_id: str, measurement: str, kind: str | None) -> int:
    """Points of one run in one measurement (and kind): rows of SELECT *, one per point."""
    where = f"\"run_id\" = '{run_id}'" + (f" AND \"kind\" = '{kind}'" if kind else "")
    answer = server.query(f'SELECT * FROM "{measurement}" WHERE {where}', db=db)
    result = answer["results"][0]
    assert "error" not in result, result
    return sum(len(s["values"]) for s in result.get("series", []))


def assert_counts_match(server, db: str, run_dir: Path) -> dict:
    """Every Parquet table has exactly its rows as points in InfluxDB."""
    expected = parquet_counts(run_dir)
    got = {key: influx_count(server, db, run_id_of(run_dir), *key) for key in expected}
    assert got == expected
    return got


def run_id_of(run_dir: Path) -> str:
    """The run's InfluxDB run_id, as kpis.json records it."""
    return json.loads((run_dir / "kpis.json").read_text(encoding="utf-8"))["run"]["run_id"]
