"""What the service keeps under ``--data``: an SQLite index and one folder per network and session.

Layout::

    DATA/
      gridtwin.sqlite           networks, sessions, solutions (WAL journal)
      networks/<id>.json        the network as a pandapower JSON file (normalized)
      networks/<id>.zip         the uploaded CGMES zip, when it came as one
      networks/<id>.net.pkl     the same net pickled, for the workers to load fast
                                (a cache written by this service; removed at start-up)
      sessions/<id>/periods.csv the session's demand periods, when given
      runs/<run-id>/            run directories (``gridtwin run --out DATA/runs/...``)

Every write is one SQLite transaction, so a service killed at any moment
restarts with every network, session and finished solution it had
acknowledged. Worker processes write their progress through their own
connection.
"""

from __future__ import annotations

import json
import pickle
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["RUNNING", "Store", "new_id"]

RUNNING = ("running", "stopping")
"""Session states in which a worker computes."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS networks (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
    all_lines_switchable INTEGER NOT NULL, created REAL NOT NULL, summary TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, network_id TEXT NOT NULL, created REAL NOT NULL, config TEXT NOT NULL,
    status TEXT NOT NULL, started REAL, finished REAL, elapsed_s REAL, power_flows INTEGER,
    best_objective REAL, best_plan TEXT, solution_id TEXT, error TEXT, worker_pid INTEGER,
    interrupted INTEGER NOT NULL DEFAULT 0, evaluations INTEGER);
CREATE TABLE IF NOT EXISTS solutions (
    id TEXT PRIMARY KEY, session_id TEXT NOT NULL, source TEXT NOT NULL, created REAL NOT NULL,
    objective REAL, feasible INTEGER, data TEXT NOT NULL);
"""


def new_id(prefix: str) -> str:
    """A fresh resource id such as ``net-3f9a1c2b7d4e``."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def connect(db_path: str | Path) -> sqlite3.Connection:
    """A connection in WAL mode that waits for locks instead of failing."""
    con = sqlite3.connect(str(db_path), timeout=30.0, isolation_level=None)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA busy_timeout=30000")
    return con


class Store:
    """The service's persistent state (see the module doc).

    Parameters
    ----------
    data_dir : Path
        The ``--data`` folder; created if missing.
    """

    def __init__(self, data_dir: str | Path) -> None:
        self.root = Path(data_dir)
        for sub in ("networks", "sessions", "runs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "gridtwin.sqlite"
        for stale in (self.root / "networks").glob("*.pkl"):
            stale.unlink(missing_ok=True)  # written by another version of the code, perhaps
        con = connect(self.db_path)
        try:
            con.executescript(_SCHEMA)
            columns = {r["name"] for r in con.execute("PRAGMA table_info(sessions)")}
            if "evaluations" not in columns:  # a --data folder of an earlier version
                con.execute("ALTER TABLE sessions ADD COLUMN evaluations INTEGER")
        except BaseException:
            con.close()
            raise
        # Kept open for the store's life, never used: when the last connection to a WAL
        # database closes, SQLite checkpoints it (with fsyncs, 5-30 ms on a busy disk),
        # and every call here opens and closes its own connection. SQLite still
        # checkpoints on its own as the WAL grows; a killed service recovers the WAL.
        self._keeper = con

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction on a fresh connection (thread-safe: one connection per call)."""
        con = connect(self.db_path)
        try:
            con.execute("BEGIN IMMEDIATE")
            yield con
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        con = connect(self.db_path)
        try:
            return list(con.execute(sql, args))
        finally:
            con.close()

    # --- files ------------------------------------------------------------------------------

    def network_file(self, network_id: str) -> Path:
        return self.root / "networks" / f"{network_id}.json"

    def pickle_file(self, network_id: str) -> Path:
        return self.root / "networks" / f"{network_id}.net.pkl"

    def write_net_pickle(self, network_id: str, net: Any) -> None:
        """Keep the net pickled so that workers skip parsing its JSON (a cache)."""
        path = self.pickle_file(network_id)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(net, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)

    def session_dir(self, session_id: str) -> Path:
        return self.root / "sessions" / session_id

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    # --- networks ---------------------------------------------------------------------------

    def add_network(
        self, network_id: str, name: str, kind: str, all_lines: bool, summary: dict[str, Any]
    ) -> None:
        with self.tx() as con:
            con.execute(
                "INSERT INTO networks VALUES (?, ?, ?, ?, ?, ?)",
                (network_id, name, kind, int(all_lines), time.time(), json.dumps(summary)),
            )

    def network(self, network_id: str) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM networks WHERE id = ?", (network_id,))
        return rows[0] if rows else None

    def networks(self) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM networks ORDER BY created")

    def delete_network(self, network_id: str) -> bool:
        """Delete a network, its sessions and solutions, and every file of theirs.

        Returns
        -------
        bool
            False (and nothing deleted) when one of its sessions is running; the
            check and the deletion are one transaction, so no start slips between.
        """
        with self.tx() as con:
            rows = list(
                con.execute("SELECT id, status FROM sessions WHERE network_id = ?", (network_id,))
            )
            if any(r["status"] in RUNNING for r in rows):
                return False
            sessions = [r["id"] for r in rows]
            for sid in sessions:
                con.execute("DELETE FROM solutions WHERE session_id = ?", (sid,))
            con.execute("DELETE FROM sessions WHERE network_id = ?", (network_id,))
            con.execute("DELETE FROM networks WHERE id = ?", (network_id,))
        for path in (
            self.network_file(network_id),
            self.network_file(network_id).with_suffix(".zip"),
            self.pickle_file(network_id),
        ):
            path.unlink(missing_ok=True)
        for sid in sessions:
            shutil.rmtree(self.session_dir(sid), ignore_errors=True)
        return True

    # --- sessions ---------------------------------------------------------------------------

    def add_session(self, session_id: str, network_id: str, config: dict[str, Any]) -> bool:
        """Add a session; False when its network is gone (deleted meanwhile)."""
        with self.tx() as con:
            cur = con.execute(
                "INSERT INTO sessions (id, network_id, created, config, status) "
                "SELECT ?, ?, ?, ?, 'created' WHERE EXISTS (SELECT 1 FROM networks WHERE id = ?)",
                (session_id, network_id, time.time(), json.dumps(config), network_id),
            )
            return cur.rowcount == 1

    def session(self, session_id: str) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return rows[0] if rows else None

    def sessions(self, network_id: str | None = None) -> list[sqlite3.Row]:
        if network_id is None:
            return self.query("SELECT * FROM sessions ORDER BY created")
        return self.query(
            "SELECT * FROM sessions WHERE network_id = ? ORDER BY created", (network_id,)
        )

    def n_running(self) -> int:
        rows = self.query("SELECT COUNT(*) AS n FROM sessions WHERE status IN (?, ?)", RUNNING)
        return int(rows[0]["n"])

    def mark_interrupted(self) -> int:
        """At start-up: sessions a previous service left running say so."""
        with self.tx() as con:
            cur = con.execute(
                "UPDATE sessions SET status = 'interrupted', interrupted = 1, worker_pid = NULL, "
                "error = 'the service stopped while this session was running; start it again' "
                "WHERE status IN (?, ?)",
                RUNNING,
            )
            return cur.rowcount

    # --- solutions --------------------------------------------------------------------------

    def solution(self, solution_id: str) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM solutions WHERE id = ?", (solution_id,))
        return rows[0] if rows else None

    def solutions(self, session_id: str) -> list[sqlite3.Row]:
        return self.query(
            "SELECT * FROM solutions WHERE session_id = ? ORDER BY created", (session_id,)
        )

    def add_solution(
        self,
        con: sqlite3.Connection,
        session_id: str,
        source: str,
        data: dict[str, Any],
    ) -> str:
        sid = new_id("sol")
        assessment = data.get("assessment") or {}
        con.execute(
            "INSERT INTO solutions VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                sid,
                session_id,
                source,
                time.time(),
                (assessment.get("cost") or {}).get("total"),
                int(bool(assessment.get("feasible"))),
                json.dumps(data),
            ),
        )
        return sid
