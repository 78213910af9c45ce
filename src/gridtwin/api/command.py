"""``gridtwin serve``: run the HTTP service with uvicorn."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated

import typer

from gridtwin.errors import InputError

__all__ = ["TOKEN_ENV", "check_binding", "serve", "serve_command"]

TOKEN_ENV = "GRIDTWIN_API_TOKEN"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token."""
    if not _is_loopback(host) and not token:
        raise InputError(
            "--host",
            "",
            f"got {host!r}, which is not a loopback address; expected 127.0.0.1 or ::1, "
            f"or set {TOKEN_ENV} in the environment to require a bearer token",
        )


def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    data_dir: str | Path = "gridtwin-data",
    *,
    max_upload_mb: float = 50.0,
    max_optimizations: int = 2,
    token: str | None = None,
    log_level: str = "info",
) -> None:
    """Run the service until interrupted.

    Parameters
    ----------
    host, port : str, int
        Where to listen; beyond loopback only with ``token``.
    data_dir : str or Path
        Networks, sessions, solutions (SQLite + files) and runs.
    max_upload_mb : float
        Largest request body [MB]; larger ones are answered 413.
    max_optimizations : int
        Optimizations at once (worker processes); one more is answered 429.
    token : str, optional
        Bearer token every request must carry; never logged.
    log_level : str
        uvicorn's log level.
    """
    import uvicorn

    from gridtwin.api.app import Settings, create_app

    if port < 0 or port > 65535:
        raise InputError("--port", "", f"got {port}; expected 0..65535")
    if max_optimizations < 1:
        raise InputError("--max-optimizations", "", f"got {max_optimizations}; expected 1 or more")
    if max_upload_mb <= 0:
        raise InputError("--max-upload-mb", "", f"got {max_upload_mb}; expected MB > 0")
    check_binding(host, token)
    settings = Settings(
        data_dir=Path(data_dir),
        token=token,
        max_upload_bytes=int(max_upload_mb * 1024 * 1024),
        max_optimizations=max_optimizations,
    )
    app = create_app(settings)
    print(
        f"gridtwin serve: http://{host}:{port} (docs /docs), data {settings.data_dir}, "
        f"auth {'bearer token' if token else 'none (loopback only)'}, "
        f"max {max_optimizations} optimizations, uploads up to {max_upload_mb:g} MB",
        flush=True,
    )
    from gridtwin.redact import uvicorn_log_config

    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=5,
        log_config=uvicorn_log_config(),  # no ?token=... of a client in the log
    )


def serve_command(
    host: Annotated[
        str, typer.Option(help="Address to listen on; beyond loopback only with a token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    data: Annotated[
        Path, typer.Option("--data", help="Folder for networks, sessions, solutions and runs.")
    ] = Path("gridtwin-data"),
    max_upload_mb: Annotated[
        float, typer.Option("--max-upload-mb", help="Largest request body [MB] (413 beyond).")
    ] = 50.0,
    max_optimizations: Annotated[
        int,
        typer.Option("--max-optimizations", help="Optimizations at once (429 beyond)."),
    ] = 2,
) -> None:
    """Serve the optimizer, assessment and power flow over HTTP (OpenAPI at /docs).

    Set GRIDTWIN_API_TOKEN to require 'Authorization: Bearer <token>' on every request.
    """
    try:
        serve(
            host,
            port,
            data,
            max_upload_mb=max_upload_mb,
            max_optimizations=max_optimizations,
            token=os.environ.get(TOKEN_ENV) or None,
        )
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
