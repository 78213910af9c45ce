"""The pool of worker processes that run sessions, and the limit on concurrent optimizations."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from gridtwin.api.problems import ApiError
from gridtwin.api.store import RUNNING, Store

__all__ = ["Optimizer"]

log = logging.getLogger("gridtwin.api")


class Optimizer:
    """Starts and stops sessions in a pool of ``max_running`` worker processes.

    Parameters
    ----------
    store : Store
    max_running : int
        Optimizations at once; one more is answered 429.
    """

    def __init__(self, store: Store, max_running: int) -> None:
        self.store = store
        self.max_running = max_running
        self._lock = threading.Lock()
        self._pool = self._new_pool()
        self._ended: dict[str, threading.Event] = {}  # per running session: set when it ends

    def _new_pool(self) -> ProcessPoolExecutor:
        from gridtwin.api.worker import init_worker, warm

        pool = ProcessPoolExecutor(
            max_workers=self.max_running,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(os.getpid(),),
        )
        for _ in range(self.max_running):
            pool.submit(warm)
        return pool

    def start(self, session: Any, network: Any) -> None:
        """Run ``session`` in the background; 429 when ``max_running`` already run."""
        from gridtwin.api.worker import run_session

        config = __import__("json").loads(session["config"])
        periods_file = self.store.session_dir(session["id"]) / "periods.csv"
        task = {
            "db": str(self.store.db_path),
            "session_id": session["id"],
            "network_id": network["id"],
            "network_file": str(self.store.network_file(network["id"])),
            "pickle_file": str(self.store.pickle_file(network["id"])),
            "all_lines_switchable": bool(network["all_lines_switchable"]),
            "periods_file": str(periods_file) if periods_file.is_file() else None,
            "objective": config["objective"],
            "weights": config["weights"],
            "max_evaluations": config["max_evaluations"],
            "seed": config["seed"],
        }
        with self._lock:
            with self.store.tx() as con:
                n = con.execute(
                    "SELECT COUNT(*) AS n FROM sessions WHERE status IN (?, ?)", RUNNING
                ).fetchone()["n"]
                if n >= self.max_running:
                    raise ApiError(
                        429,
                        "",
                        f"{n} optimizations are running; expected at most {self.max_running} "
                        "at once (--max-optimizations): retry when one has finished",
                        headers={"Retry-After": "1"},
                    )
                cur = con.execute(
                    "UPDATE sessions SET status = 'running', started = ?, finished = NULL, "
                    "elapsed_s = 0, power_flows = 0, evaluations = 0, best_objective = NULL, "
                    "best_plan = NULL, "
                    "solution_id = NULL, error = NULL, worker_pid = NULL, interrupted = 0 "
                    "WHERE id = ?",
                    (time.time(), session["id"]),
                )
                if cur.rowcount == 0:  # deleted with its network meanwhile
                    raise ApiError(404, "session_id", f"no session {session['id']!r}")
            ended = self._ended[session["id"]] = threading.Event()
            try:
                future = self._pool.submit(run_session, task)
            except RuntimeError:  # a broken pool: start a new one
                self._pool = self._new_pool()
                future = self._pool.submit(run_session, task)
        session_id = str(session["id"])

        def done(f: Future) -> None:
            try:
                self._done(f, session_id)
            finally:
                ended.set()  # the worker has written its final status (or _done has)

        future.add_done_callback(done)

    def _done(self, future: Future, session_id: str) -> None:
        exc = future.exception()
        if exc is None:
            return
        log.warning("session %s: the worker process failed (%s)", session_id, type(exc).__name__)
        with self.store.tx() as con:
            con.execute(
                "UPDATE sessions SET status = 'failed', worker_pid = NULL, error = ? "
                "WHERE id = ? AND status IN (?, ?)",
                (f"the worker process failed ({type(exc).__name__})", session_id, *RUNNING),
            )
        with self._lock:
            if getattr(self._pool, "_broken", False):
                self._pool = self._new_pool()

    def ended_event(self, session_id: str) -> threading.Event | None:
        """The event set when the session started last in this service ends (None if none)."""
        with self._lock:
            return self._ended.get(session_id)

    def forget(self, session_id: str) -> None:
        """Drop the session's end event once it has ended."""
        with self._lock:
            ev = self._ended.get(session_id)
            if ev is not None and ev.is_set():
                del self._ended[session_id]

    def stop(self, session_id: str) -> None:
        """Ask a running session to stop; it saves its best plan so far."""
        with self.store.tx() as con:
            con.execute(
                "UPDATE sessions SET status = 'stopping' WHERE id = ? AND status = 'running'",
                (session_id,),
            )
            row = con.execute(
                "SELECT worker_pid FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
        pid = row["worker_pid"] if row is not None else None
        if pid:
            try:
                os.kill(int(pid), signal.SIGUSR1)
            except ProcessLookupError:
                pass

    def shutdown(self) -> None:
        """Sessions still running say they were interrupted; the workers end."""
        self.store.mark_interrupted()
        processes = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            if proc.is_alive():
                proc.terminate()
