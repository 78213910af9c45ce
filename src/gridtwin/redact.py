"""Credentials out of every text gridtwin stores or prints.

The rule: a password or token never reaches a file of the run directory, the
log or the terminal. URLs may carry one as ``scheme://user:password@host`` or
as a query parameter (``?p=...``, ``?password=...``, ``?token=...``, InfluxDB
1.x takes ``u``/``p``); :func:`redact_text` replaces each such secret with
``***`` wherever it occurs in a text. It is applied to every
:class:`~gridtwin.errors.InputError`, to ``scenario.yaml`` and to the run log.
"""

from __future__ import annotations

import logging
import re
from typing import Any

__all__ = ["MASK", "RedactingFilter", "redact_text", "redact_url", "uvicorn_log_config"]

MASK = "***"
"""What a secret is replaced with."""

_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:'\"]*):[^\s/'\"]*@")
_QUERY = re.compile(
    r"(?P<head>[?&](?:p|pw|pwd|pass|password|passwd|token|secret|api_key|apikey|auth)=)"
    r"[^&#\s'\"]*",
    re.IGNORECASE,
)


def redact_text(text: str) -> str:
    """``text`` with every URL password and secret query parameter replaced by ``***``."""
    if "://" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(lambda m: f"{m.group('head')}:{MASK}@", text)
    return _QUERY.sub(lambda m: f"{m.group('head')}{MASK}", text)


def redact_url(url: str) -> str:
    """One URL without its secrets (``http://u:***@host:8086``)."""
    return redact_text(url)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from each record's final message.

    Text arguments are redacted in place (formatters that read ``record.args``, such as
    uvicorn's access log, keep working); what is left is redacted in the whole message.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact_text(a) if isinstance(a, str) else a for a in record.args)
        message = record.getMessage()
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with :class:`RedactingFilter` on every handler
    (a client's ``?token=...`` in a request line is logged as ``?token=***``)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact"] = {"()": RedactingFilter}
    for handler in config["handlers"].values():
        handler["filters"] = [*handler.get("filters", []), "redact"]
    return config
