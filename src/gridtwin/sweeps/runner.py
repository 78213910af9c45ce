"""Running a sweep's jobs on Dask: a LocalCluster of N processes, or an existing scheduler.

::

    plan.jobs ──► finished already? (run dir with a complete kpis.json) ──► row read back
              └─► Dask: at most a few jobs per worker in flight ──► run_job on a worker
                                                                   └─► small row back

Only the small rows travel back; each future is released as soon as its row
is in. A job whose worker died (after Dask's own retries) or that raised is
recorded as failed with a one-line error, and the sweep goes on.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from gridtwin.errors import InputError
from gridtwin.sweeps.plan import Job, Plan
from gridtwin.sweeps.task import finished_row, run_job

__all__ = ["Progress", "cluster_client", "run_jobs", "wanted_kpis"]

Progress = Callable[[int, int, int], None]
"""Called with (done, failed, running) after every change."""


def wanted_kpis(plan: Plan) -> list[str] | None:
    """The KPIs the sweep collects (None: all but the wall-clock ones)."""
    return None if plan.spec.kpis == "all" else list(plan.spec.kpis)


@contextmanager
def cluster_client(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A Dask client: on ``scheduler`` if given, else on a new LocalCluster of processes.

    Raises
    ------
    InputError
        ``--scheduler`` that cannot be reached, or ``--workers`` below 1.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError("--scheduler", "", f"cannot reach {scheduler} ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n < 1:
        raise InputError("--workers", "", f"got {n}; expected 1 or more")
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # a free port (the default 8787 may be taken)
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _lost(job: Job, exc: BaseException, wanted: list[str] | None) -> dict[str, Any]:
    text = " ".join(str(exc).split())[:300]
    return {
        "variant": job.id,
        "status": "failed",
        "error": f"worker lost or task failed ({type(exc).__name__}: {text})",
        "wall_s": float("nan"),
        "kpis": {k: float("nan") for k in wanted or []},
    }


def _threads(client: Any) -> int:
    try:
        return max(1, sum(client.nthreads().values()))
    except Exception:  # the scheduler is going away: keep the window small
        return 1


def run_jobs(
    client: Any, jobs: list[Job], wanted: list[str] | None, progress: Progress | None = None
) -> Iterator[dict[str, Any]]:
    """Run the jobs on the client's cluster; yield each row as it comes in (any order)."""
    from distributed import as_completed

    pending = list(reversed(jobs))
    done = failed = 0
    window = 2 * _threads(client)
    in_flight: dict[Any, Job] = {}

    def submit() -> Any:
        job = pending.pop()
        key = f"gridtwin-sweep-{job.id}-{uuid.uuid4().hex[:8]}"  # unique on a shared scheduler
        future = client.submit(run_job, job, wanted, key=key, pure=False)
        in_flight[future] = job
        return future

    queue = as_completed([submit() for _ in range(min(window, len(pending)))])
    if progress is not None:
        progress(0, 0, min(len(in_flight), _threads(client)))
    for future in queue:
        job = in_flight.pop(future)
        try:
            row = future.result()
        except Exception as exc:  # KilledWorker, a lost connection, ...
            row = _lost(job, exc, wanted)
        future.release()
        done += 1
        failed += row["status"] != "ok"
        if pending:
            queue.add(submit())
        if progress is not None:
            progress(done, failed, min(len(in_flight), _threads(client)))
        yield row


def finished_rows(plan: Plan, wanted: list[str] | None) -> tuple[list[dict], list[Job]]:
    """Rows of the variants finished by an earlier start, and the jobs still to run."""
    rows, todo = [], []
    for job in plan.jobs:
        row = finished_row(job, wanted)
        if row is None:
            todo.append(job)
        else:
            rows.append(row)
    return rows, todo
