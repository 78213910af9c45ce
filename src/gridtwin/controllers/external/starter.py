"""Start an external mosaik simulator by command line, and notice at once when it dies.

mosaik's own ``cmd:`` starter waits its whole start timeout for a process
that has already exited; this one returns an error as soon as the process
ends without connecting, names the exit status and the last line it wrote,
and keeps the process's output in a log file (the run directory's
``function-<name>.log``).
"""

from __future__ import annotations

import asyncio
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from mosaik.proxies import RemoteProxy
from mosaik.starters import Starter
from mosaik_api_v3.connection import Channel

__all__ = ["ProcessStarter", "StartError"]

_POLL_S = 0.05


class StartError(Exception):
    """The external simulator could not be started (one line)."""


def _last_line(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


class ProcessStarter(Starter):
    """mosaik :class:`~mosaik.starters.Starter` for ``cmd`` (with ``%(addr)s``, ``%(python)s``).

    Parameters
    ----------
    cmd : str
        The command line; ``%(addr)s`` becomes ``HOST:PORT`` to connect to.
    cwd : path
        Folder the command runs in.
    log_path : path
        File that receives the process's standard output and error.
    timeout_s : float
        Seconds to wait for the process to connect [s].
    """

    def __init__(self, cmd: str, *, cwd: Path, log_path: Path, timeout_s: float) -> None:
        self.cmd = cmd
        self.cwd = cwd
        self.log_path = log_path
        self.timeout_s = timeout_s
        self.api_version = None

    @classmethod
    def from_starter_config(cls, starter_config: Any) -> Starter | None:
        return None  # built in code only

    async def start(self, sim_id: str, mosaik_remote: Any, mosaik_config: Any) -> RemoteProxy:
        loop = asyncio.get_running_loop()
        connected: asyncio.Future[Channel] = loop.create_future()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if not connected.done():
                connected.set_result(Channel(reader, writer, name=sim_id))

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        try:
            host, port = server.sockets[0].getsockname()[:2]
            argv = shlex.split(self.cmd % {"addr": f"{host}:{port}", "python": sys.executable})
            proc = self._spawn(argv)
            deadline = loop.time() + self.timeout_s
            while not connected.done():
                if proc.poll() is not None:
                    last = _last_line(self.log_path)
                    raise StartError(
                        f"exited with status {proc.returncode} before connecting to mosaik"
                        + (f" ({last})" if last else "")
                    )
                if loop.time() > deadline:
                    proc.terminate()
                    raise StartError(f"did not connect to mosaik within {self.timeout_s:g} s")
                await asyncio.wait([connected], timeout=_POLL_S)
            return RemoteProxy(connected.result(), mosaik_remote, process=(proc, True))
        finally:
            server.close()

    def _spawn(self, argv: list[str]) -> subprocess.Popen[str]:
        if not argv:
            raise StartError("empty command line")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a", encoding="utf-8") as log:
            try:
                return subprocess.Popen(
                    argv,
                    cwd=self.cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            except OSError as exc:
                raise StartError(f"cannot start {argv[0]!r}: {exc.strerror or exc}") from None
