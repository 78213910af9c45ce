"""InfluxDB in a run: check the server before the run, attach the sink, report at the end.

``world.run_scenario`` calls three things, in this order::

    influx = InfluxRun.connect(scenario)        # before the run directory exists; InputError
    store = influx.attach(store, run_dir, ...)  # a StoreFanout for the recorder
    report = influx.finish(kpis, end_s)         # flush, wait, count; never raises
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandapower as pp

from gridtwin.recording.influx_client import InfluxApi, InfluxTarget, connect
from gridtwin.recording.influx_schema import run_tags_from_net
from gridtwin.recording.influx_sink import InfluxSink, StoreFanout
from gridtwin.recording.influx_writer import InfluxWriter, WriteStats
from gridtwin.recording.store import ParquetStore, TableSpec

__all__ = ["SPILL_FILE", "InfluxReport", "InfluxRun", "target_from_spec"]

log = logging.getLogger("gridtwin.influx")
SPILL_FILE = "influx-spill.lp"


def target_from_spec(spec: Any, source: str) -> InfluxTarget:
    """An :class:`InfluxTarget` from a scenario's ``recording.influx`` section."""
    return InfluxTarget(
        url=spec.url,
        database=spec.database,
        api=InfluxApi(spec.api),
        retention_policy=spec.retention_policy,
        org=spec.org,
        timeout_s=spec.timeout_s,
        source=source,
    )


@dataclass(slots=True)
class InfluxReport:
    """What went to InfluxDB during a run."""

    url: str
    database: str
    stats: WriteStats
    queued: dict[str, int] = field(default_factory=dict)
    spill_file: Path | None = None
    error: str = ""

    @property
    def complete(self) -> bool:
        """Every queued point written."""
        return (
            not self.error
            and self.stats.unsent_points == 0
            and self.stats.rejected_points == 0
            and self.stats.points == sum(self.queued.values())
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (no credentials)."""
        return {
            "url": self.url,
            "database": self.database,
            "points_written": self.stats.points,
            "bytes_written": self.stats.bytes,
            "batches": self.stats.batches,
            "points_by_measurement": dict(self.stats.by_measurement),
            "retries": self.stats.retries,
            "outage_s": round(self.stats.outage_s, 3),
            "slow_answers": self.stats.slow_answers,
            "rejected_points": self.stats.rejected_points,
            "unsent_points": self.stats.unsent_points,
            "spill_file": str(self.spill_file) if self.spill_file else None,
            "complete": self.complete,
            "error": self.error,
        }


class InfluxRun:
    """The InfluxDB side of one run."""

    def __init__(self, spec: Any, client: Any, target: InfluxTarget) -> None:
        self.spec = spec
        self.client = client
        self.target = target
        self.sink: InfluxSink | None = None
        self.fanout: StoreFanout | None = None

    @classmethod
    def connect(cls, scenario: Any) -> InfluxRun | None:
        """Check the scenario's InfluxDB (``recording.influx``); None if it has none.

        Raises
        ------
        InputError
            Wrong URL, server not reachable, authentication failed, no database.
        """
        spec = getattr(scenario.recording, "influx", None)
        if spec is None or not spec.url:
            return None
        source = getattr(spec, "source", None) or f"{scenario.source_file}: recording.influx"
        target = target_from_spec(spec, source)
        return cls(spec, connect(target), target)

    def attach(
        self,
        store: ParquetStore,
        run_dir: Path,
        scenario: Any,
        tables: dict[str, TableSpec],
        net: pp.pandapowerNet,
        run_id: str | None = None,
    ) -> StoreFanout:
        """Start the writer and return the store the recorder should write to.

        ``run_id`` tags every point (default: the run directory's name).
        """
        run = run_tags_from_net(run_id or Path(run_dir).name, scenario.name, net)
        writer = InfluxWriter(
            self.client,
            Path(run_dir) / SPILL_FILE,
            max_memory_bytes=int(self.spec.max_memory_mb * 2**20),
        )
        self.sink = InfluxSink(
            writer,
            run,
            int(scenario.time.start.timestamp()),
            tables,
            batch_points=self.spec.batch_points,
            max_delay_s=self.spec.max_delay_s,
            real_time=scenario.time.real_time_factor is not None,
        )
        log.info(
            "InfluxDB: writing to %s, database %s (%s API)",
            self.target.safe_url,
            self.target.database,
            self.target.api,
        )
        self.fanout = StoreFanout(store, self.sink)
        return self.fanout

    def finish(self, kpis: dict[str, Any], end_s: int) -> InfluxReport:
        """Flush, write the KPIs, wait for the writer; log and return what happened."""
        assert self.sink is not None and self.fanout is not None
        error = self.fanout.sink_error
        try:
            stats = self.sink.close(kpis, end_s, drain_timeout_s=self.spec.drain_timeout_s)
        except Exception as exc:  # never lose the run over the sink
            log.exception("InfluxDB sink failed at the end of the run")
            stats = self.sink.writer.stats
            error = error or f"{type(exc).__name__}: {exc}"
        spill = self.sink.writer.spill_path
        report = InfluxReport(
            self.target.safe_url,
            self.target.database,
            stats,
            dict(self.sink.queued),
            spill if spill.exists() else None,
            error,
        )
        if report.complete:
            log.info("InfluxDB: %d points written (%d bytes)", stats.points, stats.bytes)
        else:
            log.warning(
                "InfluxDB: %d points written, %d not written%s; "
                "`gridtwin influx-replay RUN_DIR --influx URL` writes the whole run",
                stats.points,
                stats.unsent_points,
                f" (kept in {spill})" if report.spill_file else "",
            )
        return report
