"""A real ``gridtwin serve`` subprocess on a free loopback port with its own data folder.

Used by the API tests and ``bench/bench_api.py``. ``kill()`` ends it at once
(SIGKILL, as a crash would); ``start()`` again keeps the data and the port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["ApiServer", "free_port"]


def free_port() -> int:
    """A TCP port nothing listens on at the moment (loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApiServer:
    """``python -m gridtwin serve`` with ``--data root/data`` and its log in ``root/serve.log``."""

    def __init__(
        self,
        root: Path,
        *,
        token: str | None = None,
        max_upload_mb: float = 50,
        max_optimizations: int = 2,
    ) -> None:
        self.root = Path(root)
        self.data = self.root / "data"
        self.log_path = self.root / "serve.log"
        self.token = token
        self.port = free_port()
        self.args = [
            "--max-upload-mb",
            str(max_upload_mb),
            "--max-optimizations",
            str(max_optimizations),
        ]
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def client(self, **kwargs: object) -> httpx.Client:
        kwargs.setdefault("timeout", 60)
        return httpx.Client(base_url=self.url, headers=self.headers, **kwargs)  # type: ignore[arg-type]

    def start(self, timeout_s: float = 60) -> None:
        env = dict(os.environ)
        env.pop("GRIDTWIN_API_TOKEN", None)
        if self.token:
            env["GRIDTWIN_API_TOKEN"] = self.token
        src = str(Path(__file__).resolve().parents[1] / "src")
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
        self.root.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gridtwin",
                "serve",
                "--port",
                str(self.port),
                "--data",
                str(self.data),
                *self.args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gridtwin serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                if (
                    httpx.get(self.url + "/health", headers=self.headers, timeout=2).status_code
                    == 200
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("gridtwin serve did not answer in time")

    def kill(self) -> None:
        """End the server at once (SIGKILL): no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        """End the server gracefully (SIGTERM)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")
