"""The background writer: batches go out in order, and none is lost while InfluxDB is down.

::

    put(batch) ──► memory queue (≤ max_memory_bytes) ──► writer thread ──► InfluxDB
          └──────► spill file in the run directory ───────┘  (retry with back-off)

- :meth:`InfluxWriter.put` never waits on the network: it appends to the
  memory queue, or, once the queue is full or something is already spilled,
  to the spill file. So the order of batches is the order of ``put``: the
  memory queue always holds older batches than the spill file.
- The writer thread sends the oldest batch; on a refused connection, a
  time-out or a server error it keeps the batch and retries with exponential
  back-off (``retry_min_s`` doubling up to ``retry_max_s``).
- The outage figure (``WriteStats.outage_s``) is the time the database did not
  answer: from sending a request that failed, or that was answered only after
  more than ``slow_answer_s``, to the next answer. So a freeze shorter than the
  HTTP time-out (the request hangs, then succeeds) counts in full, as does one
  longer than it (the request times out and is retried). A write that
  timed out may still have reached the server: sending it again is harmless,
  since InfluxDB keeps one point per series and timestamp.
- A batch the server rejects for good (HTTP 400: a field type conflict) is
  logged and counted, never retried.
- :meth:`InfluxWriter.close` waits up to ``drain_timeout_s`` for the queue to
  empty. What is still unsent then stays in the spill file (memory batches
  first), and the caller tells the user to run ``gridtwin influx-replay``.

Spill file format: InfluxDB line protocol in blocks, each preceded by one
comment line ``# gridtwin-batch precision=s bytes=N points=M``; any tool
that reads line protocol skips the comments.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from gridtwin.recording.influx_client import (
    InfluxClient,
    InfluxRejectedError,
    InfluxUnavailableError,
)
from gridtwin.recording.influx_schema import Batch

__all__ = ["InfluxWriter", "WriteStats", "read_spill"]

log = logging.getLogger("gridtwin.influx")
_HEADER = b"# gridtwin-batch "


@dataclass(slots=True)
class WriteStats:
    """What the writer did: points and bytes written, per measurement, retries, what is left."""

    points: int = 0
    bytes: int = 0
    batches: int = 0
    by_measurement: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    rejected_points: int = 0
    spilled_batches: int = 0
    unsent_points: int = 0
    outage_s: float = 0.0  # [s] from sending a failed or slow request to the next answer
    slow_answers: int = 0  # requests answered after more than slow_answer_s
    last_error: str = ""


def _header(batch: Batch) -> bytes:
    counts = ",".join(f"{k}:{v}" for k, v in batch.points.items())
    return (
        _HEADER
        + f"precision={batch.precision} bytes={len(batch.payload)} points={counts}\n".encode()
    )


def _read_block(handle: BinaryIO) -> Batch | None:
    line = handle.readline()
    if not line:
        return None
    if not line.startswith(_HEADER):
        raise ValueError("not a gridtwin spill block")
    meta = dict(item.split("=", 1) for item in line[len(_HEADER) :].decode().split())
    payload = handle.read(int(meta["bytes"]))
    points = {}
    for item in filter(None, meta["points"].split(",")):
        name, count = item.rsplit(":", 1)
        points[name] = int(count)
    return Batch(payload, meta["precision"], points)


def read_spill(path: Path) -> list[Batch]:
    """The batches of a spill file, in order."""
    out = []
    with Path(path).open("rb") as handle:
        while (batch := _read_block(handle)) is not None:
            out.append(batch)
    return out


class InfluxWriter:
    """Sends batches from a background thread; memory queue, spill file, retries.

    Parameters
    ----------
    client : InfluxClient
        Where to write.
    spill_path : Path
        The spill file (created only when needed; removed when drained).
    max_memory_bytes : int
        Bytes of unsent batches kept in memory before spilling to disk.
    retry_min_s, retry_max_s : float
        First and longest wait between retries [s].
    slow_answer_s : float
        A request answered after longer than this counts as an outage for the
        whole time it waited [s].
    """

    def __init__(
        self,
        client: InfluxClient,
        spill_path: Path,
        *,
        max_memory_bytes: int = 256 * 2**20,
        retry_min_s: float = 0.05,
        retry_max_s: float = 2.0,
        slow_answer_s: float = 1.0,
    ) -> None:
        self.client = client
        self.spill_path = Path(spill_path)
        self.max_memory_bytes = max_memory_bytes
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s
        self.slow_answer_s = slow_answer_s
        self.stats = WriteStats()
        self._memory: deque[Batch] = deque()
        self._memory_bytes = 0
        self._spill_out: BinaryIO | None = None
        self._spill_in: BinaryIO | None = None
        self._spilled = 0  # batches in the spill file not yet sent
        self._lock = threading.Condition()
        self._closing = False
        self._deadline = float("inf")
        self._thread = threading.Thread(target=self._run, name="gridtwin-influx", daemon=True)
        self._thread.start()

    # -- producer side -------------------------------------------------------------------------

    def put(self, batch: Batch) -> None:
        """Queue a batch (never blocks on the network)."""
        if not batch.payload:
            return
        with self._lock:
            if self._spilled or self._memory_bytes + len(batch.payload) > self.max_memory_bytes:
                self._spill(batch)
            else:
                self._memory.append(batch)
                self._memory_bytes += len(batch.payload)
            self._lock.notify()

    def _spill(self, batch: Batch) -> None:
        if self._spill_out is None:
            self._spill_out = self.spill_path.open("ab")
            self._spill_in = self.spill_path.open("rb")
            if self.stats.spilled_batches == 0:
                log.warning(
                    "InfluxDB queue over %d bytes: spilling to %s",
                    self.max_memory_bytes,
                    self.spill_path,
                )
        self._spill_out.write(_header(batch))
        self._spill_out.write(batch.payload)
        self._spill_out.flush()
        self._spilled += 1
        self.stats.spilled_batches += 1

    @property
    def pending_points(self) -> int:
        """Points queued and not yet written."""
        with self._lock:
            return sum(b.n_points for b in self._memory) + self._spill_points()

    def _spill_points(self) -> int:
        if not self._spilled or self._spill_in is None:
            return 0
        pos = self._spill_in.tell()
        total = 0
        while (b := _read_block(self._spill_in)) is not None:
            total += b.n_points
        self._spill_in.seek(pos)
        return total

    # -- writer thread -------------------------------------------------------------------------

    def _next(self) -> tuple[Batch, bool] | None:
        """The oldest unsent batch (and whether it is in the spill file), or None when done."""
        with self._lock:
            while not self._memory and not self._spilled:
                if self._closing:
                    return None
                self._lock.wait()
            if self._memory:
                return self._memory[0], False
            assert self._spill_in is not None
            pos = self._spill_in.tell()
            batch = _read_block(self._spill_in)
            self._spill_in.seek(pos)
            assert batch is not None
            return batch, True

    def _done(self, batch: Batch, spilled: bool) -> None:
        with self._lock:
            if not spilled:
                self._memory.popleft()
                self._memory_bytes -= len(batch.payload)
                return
            assert self._spill_in is not None and self._spill_out is not None
            _read_block(self._spill_in)  # step over it
            self._spilled -= 1
            if self._spilled == 0:  # drained: start the file afresh
                self._spill_out.seek(0)
                self._spill_out.truncate()
                self._spill_in.seek(0)

    def _run(self) -> None:
        while (item := self._next()) is not None:
            batch, spilled = item
            if not self._send(batch):
                return  # gave up at close: the batch stays queued
            self._done(batch, spilled)

    def _send(self, batch: Batch) -> bool:
        delay = self.retry_min_s
        down_since: float | None = None
        while True:
            sent_at = time.monotonic()
            try:
                self.client.write(batch.payload, batch.precision)
            except InfluxUnavailableError as exc:
                self.stats.retries += 1
                self.stats.last_error = str(exc)
                log.debug("InfluxDB write failed: %s", exc)
                if down_since is None:  # it stopped answering when this request went out
                    down_since = sent_at
                    log.warning("InfluxDB write failed (%s); keeping the data, retrying", exc)
                if time.monotonic() + delay > self._deadline:
                    self.stats.outage_s += time.monotonic() - down_since
                    return False
                with self._lock:
                    self._lock.wait(delay)
                delay = min(self.retry_max_s, delay * 2)
                continue
            except InfluxRejectedError as exc:
                self.stats.rejected_points += batch.n_points
                self.stats.last_error = str(exc)
                log.error("InfluxDB rejected a batch of %d points: %s", batch.n_points, exc)
                return True
            self._answered(sent_at, down_since)
            self.stats.points += batch.n_points
            self.stats.bytes += len(batch.payload)
            self.stats.batches += 1
            for name, n in batch.points.items():
                self.stats.by_measurement[name] = self.stats.by_measurement.get(name, 0) + n
            return True

    def _answered(self, sent_at: float, down_since: float | None) -> None:
        """Count the outage that ends with this answer (a slow answer is one by itself)."""
        now = time.monotonic()
        if down_since is None and now - sent_at > self.slow_answer_s:
            down_since = sent_at
            self.stats.slow_answers += 1
        if down_since is not None:
            outage = now - down_since
            self.stats.outage_s += outage
            log.warning("InfluxDB did not answer for %.1f s; writes resumed", outage)

    # -- end -----------------------------------------------------------------------------------

    def close(self, drain_timeout_s: float = 30.0) -> WriteStats:
        """Wait until everything is written or ``drain_timeout_s`` passed; keep the rest.

        Returns
        -------
        WriteStats
            ``unsent_points`` > 0 means the spill file holds what was not written.
        """
        with self._lock:
            self._closing = True
            self._deadline = time.monotonic() + drain_timeout_s
            self._lock.notify_all()
        self._thread.join()
        self.client.close()
        with self._lock:
            unsent = list(self._memory)
            rest = b""
            if self._spilled and self._spill_in is not None:
                rest = self._spill_in.read()
            for handle in (self._spill_in, self._spill_out):
                if handle is not None:
                    handle.close()
            self._spill_in = self._spill_out = None
            if unsent or rest:
                with self.spill_path.open("wb") as out:  # memory batches are the older ones
                    for batch in unsent:
                        out.write(_header(batch))
                        out.write(batch.payload)
                    out.write(rest)
                self.stats.unsent_points = sum(b.n_points for b in read_spill(self.spill_path))
            elif self.spill_path.exists():
                self.spill_path.unlink()
        return self.stats
