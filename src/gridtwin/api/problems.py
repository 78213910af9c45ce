"""RFC 9457 problem documents: every error the service answers, as ``application/problem+json``.

A problem names the field that was wrong (``field``, a dotted path such as
``weights.losses`` or ``periods[0].open_lines``) and says in ``detail`` what
was given and what was expected: the same one-line rule as the command line.
"""

from __future__ import annotations

import json
from typing import Any

from gridtwin.errors import InputError

__all__ = ["PROBLEM_TYPES", "ApiError", "from_input_error", "problem_body"]

MEDIA_TYPE = "application/problem+json"

PROBLEM_TYPES = {
    400: ("malformed-request", "Malformed request"),
    401: ("unauthorized", "Missing or wrong bearer token"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict with the resource's state"),
    413: ("too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-input", "Invalid input"),
    429: ("too-many-optimizations", "Too many optimizations running"),
    500: ("internal-error", "Internal error"),
}
"""Status code -> (type slug, title)."""


class ApiError(Exception):
    """An error answered as a problem document.

    Parameters
    ----------
    status : int
        HTTP status code.
    field : str
        The field at fault (dotted path), or ``""`` for the request as a whole.
    detail : str
        One line: what was given and what was expected.
    headers : dict, optional
        Extra response headers (``Retry-After``, ``WWW-Authenticate``).
    """

    def __init__(
        self, status: int, field: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.field = field
        self.detail = " ".join(str(detail).split())
        self.headers = headers or {}
        super().__init__(self.detail)


def from_input_error(exc: InputError, field: str, status: int = 422) -> ApiError:
    """An :class:`InputError` of a library reader as a problem about ``field``.

    The reader's file name (a temporary file of the request) is replaced by the
    request field; the reader's own field (a column, a key) is appended to it.
    """
    path = f"{field}.{exc.field}" if field and exc.field else (field or exc.field)
    return ApiError(status, path, exc.message)


def problem_body(status: int, field: str, detail: str, instance: str) -> bytes:
    """The JSON bytes of a problem document."""
    slug, title = PROBLEM_TYPES.get(status, ("error", "Error"))
    doc: dict[str, Any] = {
        "type": f"urn:gridtwin:problem:{slug}",
        "title": title,
        "status": status,
        "detail": f"{field}: {detail}" if field else detail,
        "instance": instance,
        "field": field,
    }
    return json.dumps(doc).encode("utf-8")
