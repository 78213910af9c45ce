"""Talking to InfluxDB: the v1 ``/write`` API over plain HTTP, or v2 via influxdb-client.

All network access of the InfluxDB sink lives here. :func:`connect` parses
the URL, reads the credentials from the environment and checks the server
(ping, authentication, the database) so that a wrong URL or password is one
clear line before the run starts. During a run, :meth:`InfluxClient.write`
raises :class:`InfluxUnavailableError` for anything worth retrying (refused
connection, time-out, server error, lost authentication) and
:class:`InfluxRejectedError` for a batch the server will never take.

Credentials come only from environment variables and never appear in a
message or the log:

=========================  ==================================================
``INFLUX_USERNAME``        v1: user name (HTTP basic authentication)
``INFLUX_PASSWORD``        v1: password
``GRIDTWIN_INFLUX_TOKEN``  v2: API token; v1: sent as ``Authorization: Token``
                           (InfluxDB 2.x v1 compatibility, 3.x)
``GRIDTWIN_INFLUX_ORG``    v2: organization (or ``--influx-org``)
=========================  ==================================================
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import urllib.parse
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from gridtwin.errors import InputError

__all__ = [
    "InfluxApi",
    "InfluxClient",
    "InfluxRejectedError",
    "InfluxTarget",
    "InfluxUnavailableError",
    "V1Client",
    "V2Client",
    "connect",
]


class InfluxApi(StrEnum):
    """Which write API: ``v1`` (``/write``, database + retention policy) or ``v2``."""

    V1 = "v1"
    V2 = "v2"


class InfluxUnavailableError(Exception):
    """The server cannot take a write now (down, slow, erroring); retry later."""


class InfluxRejectedError(Exception):
    """The server refused a batch for good (e.g. a field type conflict)."""


@dataclass(frozen=True, slots=True)
class InfluxTarget:
    """Where to write: URL, database (v1) or bucket (v2), retention policy, org, API.

    Parameters
    ----------
    url : str
        Base URL, e.g. ``http://localhost:8086``.
    database : str
        v1 database; with v2 the bucket.
    api : InfluxApi
        ``v1`` (default) or ``v2``.
    retention_policy : str, optional
        v1 retention policy (default: the database's default).
    org : str, optional
        v2 organization (default: ``GRIDTWIN_INFLUX_ORG``).
    timeout_s : float
        Time-out of one HTTP request [s].
    source : str
        Where the settings came from (``--influx`` or a scenario file), for messages.
    """

    url: str
    database: str = "gridtwin"
    api: InfluxApi = InfluxApi.V1
    retention_policy: str | None = None
    org: str | None = None
    timeout_s: float = 30.0
    source: str = "--influx"

    @property
    def safe_url(self) -> str:
        """The URL without any user:password part (for messages and logs)."""
        parts = urllib.parse.urlsplit(self.url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


class InfluxClient(Protocol):
    """What the writer needs from a client."""

    target: InfluxTarget

    def write(self, payload: bytes, precision: str) -> None:
        """Write line protocol; raises InfluxUnavailableError or InfluxRejectedError."""

    def close(self) -> None:
        """Release the connection."""


def _error_text(body: bytes) -> str:
    try:
        return str(json.loads(body).get("error", "")).strip() or body.decode()[:200]
    except (ValueError, AttributeError):
        return body.decode("utf-8", "replace").strip()[:200]


class V1Client:
    """InfluxDB v1 ``/write`` and ``/query`` over one kept-alive HTTP connection."""

    def __init__(self, target: InfluxTarget, parts: urllib.parse.SplitResult) -> None:
        self.target = target
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (443 if self._https else 8086)
        self._base = parts.path.rstrip("/")
        self._conn: http.client.HTTPConnection | None = None
        self._headers = {"Content-Type": "text/plain; charset=utf-8"}
        user = parts.username or os.environ.get("INFLUX_USERNAME")
        password = parts.password or os.environ.get("INFLUX_PASSWORD")
        token = os.environ.get("GRIDTWIN_INFLUX_TOKEN")
        if user:
            raw = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password or '')}"
            self._headers["Authorization"] = "Basic " + base64.b64encode(raw.encode()).decode()
        elif token:
            self._headers["Authorization"] = f"Token {token}"

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self.target.timeout_s)
        return self._conn

    def request(
        self, method: str, path: str, params: dict[str, str], body: bytes | None = None
    ) -> tuple[int, bytes]:
        """One HTTP request; raises InfluxUnavailableError on any network error."""
        url = f"{self._base}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        headers = dict(self._headers)
        if method == "POST" and path == "/query":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn = self._connection()
            conn.request(method, url, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, data
        except ConnectionRefusedError:
            self.close()
            raise InfluxUnavailableError("connection refused") from None
        except TimeoutError:
            self.close()
            raise InfluxUnavailableError(f"no answer within {self.target.timeout_s:g} s") from None
        except socket.gaierror:
            self.close()
            raise InfluxUnavailableError(f"unknown host {self._host!r}") from None
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise InfluxUnavailableError(
                type(exc).__name__ + (f": {exc}" if str(exc) else "")
            ) from None

    def _write_params(self, precision: str) -> dict[str, str]:
        params = {"db": self.target.database, "precision": precision}
        if self.target.retention_policy:
            params["rp"] = self.target.retention_policy
        return params

    def write(self, payload: bytes, precision: str) -> None:
        """POST ``/write``: 204 is done; 4xx other than auth is a rejected batch."""
        status, body = self.request("POST", "/write", self._write_params(precision), payload)
        if status == 204:
            return
        text = _error_text(body)
        if status in (400, 413, 422):  # bad lines (a partial write keeps the good ones)
            raise InfluxRejectedError(f"HTTP {status}: {text}")
        raise InfluxUnavailableError(f"HTTP {status}: {text}")

    def query(self, q: str) -> dict[str, Any]:
        """POST ``/query`` (InfluxQL) in the target database; the JSON answer."""
        status, body = self.request(
            "POST",
            "/query",
            {},
            urllib.parse.urlencode({"q": q, "db": self.target.database}).encode(),
        )
        if status != 200:
            raise InfluxRejectedError(f"HTTP {status}: {_error_text(body)}")
        return json.loads(body)

    def check(self) -> None:
        """Ping, check credentials and the database (created if missing).

        Raises
        ------
        InputError
            One line naming the URL and what is wrong.
        """
        where = self.target.safe_url
        try:
            status, _ = self.request("GET", "/ping", {})
            if status not in (200, 204):
                raise _bad(self.target, f"{where}/ping answered HTTP {status}; is this InfluxDB?")
            status, body = self.request("POST", "/write", self._write_params("s"), b"")
            if status == 404 and "database not found" in _error_text(body):
                q = f'CREATE DATABASE "{self.target.database}"'
                status, body = self.request(
                    "POST", "/query", {}, urllib.parse.urlencode({"q": q}).encode()
                )
                if status == 200:
                    status, body = self.request("POST", "/write", self._write_params("s"), b"")
        except InfluxUnavailableError as exc:
            raise _bad(self.target, f"cannot reach InfluxDB at {where}: {exc}") from None
        if status in (401, 403):
            raise _bad(self.target, _auth_message(where, status))
        if status != 204:
            raise _bad(
                self.target,
                f"{where}: cannot write to database "
                f"{self.target.database!r}: HTTP {status}: {_error_text(body)}",
            )

    def close(self) -> None:
        """Close the connection (a new one opens on the next request)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _auth_message(where: str, status: int) -> str:
    return (
        f"{where}: authentication failed (HTTP {status}); set INFLUX_USERNAME and "
        "INFLUX_PASSWORD (v1) or GRIDTWIN_INFLUX_TOKEN to credentials that may write"
    )


def _bad(target: InfluxTarget, message: str) -> InputError:
    return InputError(target.source, "", message)


class V2Client:
    """InfluxDB v2 ``/api/v2/write`` (bucket, org, token) through influxdb-client."""

    def __init__(self, target: InfluxTarget) -> None:
        from influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS

        self.target = target
        self.org = target.org or os.environ.get("GRIDTWIN_INFLUX_ORG") or ""
        token = os.environ.get("GRIDTWIN_INFLUX_TOKEN") or ""
        self._client = InfluxDBClient(
            url=target.url, token=token, org=self.org, timeout=int(target.timeout_s * 1000)
        )
        self._write = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, payload: bytes, precision: str) -> None:
        """Write through influxdb-client; maps its errors onto retry / reject."""
        from influxdb_client.rest import ApiException

        try:
            self._write.write(
                bucket=self.target.database,
                org=self.org,
                record=payload,
                # influxdb-client annotates WritePrecision, a class whose constants are plain str
                write_precision=precision,  # type: ignore[arg-type]
            )
        except ApiException as exc:
            status = int(exc.status or 0)
            if status in (400, 413, 422):
                raise InfluxRejectedError(f"HTTP {status}: {exc.reason}") from None
            raise InfluxUnavailableError(f"HTTP {status}: {exc.reason}") from None
        except Exception as exc:  # urllib3 errors: refused, time-out, DNS
            raise InfluxUnavailableError(type(exc).__name__) from None

    def check(self) -> None:
        """Ping, then look the bucket up (auth errors show here)."""
        from influxdb_client.rest import ApiException

        where = self.target.safe_url
        if not self.org:
            raise _bad(self.target, "v2 needs an organization: --influx-org or GRIDTWIN_INFLUX_ORG")
        try:
            if not self._client.ping():
                raise _bad(self.target, f"cannot reach InfluxDB at {where}")
            bucket = self._client.buckets_api().find_bucket_by_name(self.target.database)
        except ApiException as exc:
            if exc.status in (401, 403):
                raise _bad(self.target, _auth_message(where, int(exc.status))) from None
            raise _bad(self.target, f"{where}: HTTP {exc.status}: {exc.reason}") from None
        except InputError:
            raise
        except Exception as exc:
            raise _bad(
                self.target, f"cannot reach InfluxDB at {where}: {type(exc).__name__}"
            ) from None
        if bucket is None:
            raise _bad(
                self.target, f"{where}: no bucket {self.target.database!r} in org {self.org!r}"
            )

    def close(self) -> None:
        """Close influxdb-client."""
        self._client.close()


def connect(target: InfluxTarget, *, check: bool = True) -> V1Client | V2Client:
    """A client for ``target``, checked against the server unless ``check`` is false.

    Raises
    ------
    InputError
        A malformed URL, an unreachable server, failed authentication, a
        database that does not exist and cannot be created.
    """
    parts = urllib.parse.urlsplit(target.url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        raise _bad(target, f"got {target.url!r}; expected a URL like http://localhost:8086")
    if not target.database:
        raise _bad(target, "expected a database (bucket) name, e.g. --influx-db gridtwin")
    client: V1Client | V2Client = (
        V2Client(target) if target.api == InfluxApi.V2 else V1Client(target, parts)
    )
    if check:
        try:
            client.check()
        except InputError:
            client.close()
            raise
    return client
