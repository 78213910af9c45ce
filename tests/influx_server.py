"""A real ``influxd`` (Debian package ``influxdb``, InfluxDB 1.x) in a temporary folder.

Used by the test fixtures and ``bench/bench_influx.py``: free loopback ports,
data, meta and WAL folders under ``root``, usage reporting off. ``stop()`` and
``start()`` again keep the data and the port (an outage and a recovery).
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

__all__ = ["InfluxServer", "free_port", "influxd_path"]


def influxd_path() -> str | None:
    """The ``influxd`` binary, or None if InfluxDB is not installed."""
    return shutil.which("influxd") or (
        "/usr/bin/influxd" if Path("/usr/bin/influxd").exists() else None
    )


def free_port() -> int:
    """A TCP port nothing listens on at the moment (loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONFIG = """reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{root}/meta"
  logging-enabled = false
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
  wal-fsync-delay = "0s"
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{http}"
  auth-enabled = {auth}
  log-enabled = false
  max-body-size = 0
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
"""


class InfluxServer:
    """One ``influxd`` process with its own folders and ports.

    Parameters
    ----------
    root : Path
        Folder for the config, data, meta, WAL and the server's log.
    auth : bool
        Turn on authentication (then create an admin with :meth:`create_admin`).
    """

    def __init__(self, root: Path, *, auth: bool = False) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.http_port = free_port()
        self.rpc_port = free_port()
        self.auth = auth
        self.proc: subprocess.Popen | None = None
        self.started_once = False
        self.config = self.root / "influxdb.conf"
        self._write_config()

    @property
    def url(self) -> str:
        """The HTTP API's base URL."""
        return f"http://127.0.0.1:{self.http_port}"

    def _write_config(self) -> None:
        self.config.write_text(
            CONFIG.format(
                root=self.root,
                rpc=self.rpc_port,
                http=self.http_port,
                auth="true" if self.auth else "false",
            ),
            encoding="utf-8",
        )

    def start(self, timeout_s: float = 30.0) -> None:
        """Start ``influxd`` and wait until ``/ping`` answers.

        A port taken between choosing and binding it (a client's ephemeral
        port, say) is retried: with new ports on the first start, with the
        same ports (after a pause) on a restart.
        """
        for _ in range(20):
            if self._start_once(timeout_s):
                self.started_once = True
                return
            if not self.started_once:
                self.http_port, self.rpc_port = free_port(), free_port()
                self._write_config()
            time.sleep(0.25)
        raise RuntimeError(f"influxd could not bind its ports; see {self.root / 'influxd.log'}")

    def _start_once(self, timeout_s: float) -> bool:
        binary = influxd_path()
        if binary is None:
            raise RuntimeError("influxd not found; apt-get install -y influxdb")
        log_path = self.root / "influxd.log"
        offset = log_path.stat().st_size if log_path.exists() else 0
        log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [binary, "-config", str(self.config)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                with log_path.open("rb") as handle:
                    handle.seek(offset)
                    if b"address already in use" in handle.read():
                        return False
                raise RuntimeError(f"influxd exited; see {log_path}")
            try:
                with urllib.request.urlopen(self.url + "/ping", timeout=1) as r:
                    if r.status == 204:
                        return True
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("influxd did not answer /ping")

    def stop(self) -> None:
        """Stop ``influxd`` (SIGTERM, then SIGKILL) and wait for it."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def query(self, q: str, db: str | None = None, auth: tuple[str, str] | None = None) -> dict:
        """Run an InfluxQL query (POST /query) and return the JSON answer."""
        params = {"q": q, "epoch": "s"}
        if db:
            params["db"] = db
        headers = {}
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        data = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(self.url + "/query", data=data, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as r:
            return json.loads(r.read())

    def create_admin(self, user: str, password: str) -> None:
        """Create the first admin user (the only query allowed without credentials)."""
        self.query(f"CREATE USER \"{user}\" WITH PASSWORD '{password}' WITH ALL PRIVILEGES")
