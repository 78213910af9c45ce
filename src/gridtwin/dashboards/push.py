"""Upload the dashboards to a running Grafana through its HTTP API (grafana-client).

Credentials come from the environment only: ``GRAFANA_TOKEN`` (a service
account token or API key), else ``GRAFANA_USERNAME`` and ``GRAFANA_PASSWORD``
(basic authentication). They never appear in a message.
"""

from __future__ import annotations

import copy
import os
import urllib.parse
from typing import Any

from gridtwin.dashboards import DATASOURCE_UID, build_all
from gridtwin.errors import InputError

__all__ = ["push_dashboards"]


def _credential() -> str | tuple[str, str] | None:
    token = os.environ.get("GRAFANA_TOKEN")
    if token:
        return token
    user = os.environ.get("GRAFANA_USERNAME")
    if user:
        return (user, os.environ.get("GRAFANA_PASSWORD", ""))
    return None


def _with_datasource(node: Any, uid: str) -> Any:
    if isinstance(node, dict):
        if node.get("type") == "influxdb" and node.get("uid") == DATASOURCE_UID:
            return {**node, "uid": uid}
        return {k: _with_datasource(v, uid) for k, v in node.items()}
    if isinstance(node, list):
        return [_with_datasource(v, uid) for v in node]
    return node


def push_dashboards(
    url: str, *, folder: str = "gridtwin", datasource_uid: str = DATASOURCE_UID
) -> list[str]:
    """Create or overwrite every gridtwin dashboard in ``folder``; their URLs.

    Raises
    ------
    InputError
        A malformed URL, Grafana unreachable, authentication refused, or an
        upload error (one line, credentials never shown).
    """
    from grafana_client import GrafanaApi
    from grafana_client.client import (
        GrafanaClientError,
        GrafanaException,
        GrafanaUnauthorizedError,
    )

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("--grafana-url", "", f"got {url!r}; expected http://HOST:3000")
    api = GrafanaApi.from_url(url, credential=_credential(), timeout=10.0)
    urls = []
    try:
        try:
            folder_uid = api.folder.get_folder(folder)["uid"]
        except GrafanaClientError:
            folder_uid = api.folder.create_folder(folder, uid=folder)["uid"]
        for board in build_all().values():
            body = copy.deepcopy(_with_datasource(board, datasource_uid))
            body.pop("id", None)
            answer = api.dashboard.update_dashboard(
                {"dashboard": body, "folderUid": folder_uid, "overwrite": True}
            )
            urls.append(urllib.parse.urljoin(url, str(answer.get("url", ""))))
    except GrafanaUnauthorizedError:
        raise InputError(
            "--grafana-url",
            "",
            f"{url}: authentication failed; set GRAFANA_TOKEN, or GRAFANA_USERNAME and "
            "GRAFANA_PASSWORD",
        ) from None
    except GrafanaException as exc:
        raise InputError("--grafana-url", "", f"{url}: {exc.message}") from None
    except Exception as exc:  # connection refused, DNS, TLS, time-out (niquests errors)
        reason = type(exc).__name__
        raise InputError("--grafana-url", "", f"cannot reach Grafana at {url} ({reason})") from None
    return urls
