"""ASGI middleware: bearer-token authentication and the request body limit."""

from __future__ import annotations

import hmac
from typing import Any

from gridtwin.api.problems import MEDIA_TYPE, problem_body

__all__ = ["BearerAuth", "BodyLimit"]

Scope = dict[str, Any]


async def send_problem(
    send: Any, status: int, field: str, detail: str, path: str, headers: dict[str, str]
) -> None:
    body = problem_body(status, field, detail, path)
    raw = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class BearerAuth:
    """Every request needs ``Authorization: Bearer <token>`` (when a token is set).

    The token is compared in constant time and never logged or echoed.
    """

    def __init__(self, app: Any, token: str | None) -> None:
        self.app = app
        self._token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self._token is None:
            await self.app(scope, receive, send)
            return
        given = b""
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                given = value
        scheme, _, credential = given.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(credential.strip(), self._token):
            what = "missing" if not given else "wrong"
            await send_problem(
                send,
                401,
                "Authorization",
                f"{what} bearer token; expected 'Authorization: Bearer <GRIDTWIN_API_TOKEN>'",
                scope.get("path", ""),
                {"WWW-Authenticate": 'Bearer realm="gridtwin"'},
            )
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Requests whose body exceeds ``max_bytes`` are answered 413 (declared or streamed).

    The body is read here (at most ``max_bytes``) and handed on whole.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        for key, value in scope.get("headers", []):
            if key == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._reject(send, path, int(value))
                return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._reject(send, path, seen)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Any, path: str, size: int) -> None:
        await send_problem(
            send,
            413,
            "body",
            f"{size} bytes or more; expected at most {self.max_bytes} bytes (--max-upload-mb)",
            path,
            {},
        )
