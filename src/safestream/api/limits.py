"""An ASGI guard that answers 413 for bodies over a limit, without reading them whole."""

from __future__ import annotations

import contextlib
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from safestream.api.errors import error_body


class BodyTooLarge(Exception):
    """Raised into the app when the body passes the limit (the client already has its 413)."""


async def send_413(send: Send, limit: int) -> None:
    """Answer 413 and ask the client to close the connection (the rest of the body is unread)."""
    body = json.dumps(error_body(f"request body is larger than {limit} bytes")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """Refuse bodies over `max_bytes`: by Content-Length up front, or while streaming chunks."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting body bytes as they arrive."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await send_413(send, self.max_bytes)
            return
        seen = 0
        answered = False
        started = False

        async def counted_receive() -> Message:
            nonlocal seen, answered
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Answer now, then stop the app: whatever it answers after is dropped.
                    if not started:
                        await send_413(send, self.max_bytes)
                    answered = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the 413 already went out; drop the app's own answer
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(BodyTooLarge):  # the client already has its 413
            await self.app(scope, counted_receive, guarded_send)
