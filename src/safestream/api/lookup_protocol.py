"""`serve`'s HTTP protocol: uvicorn's httptools protocol, with plain raw lookups answered inline.

Under load a hash lookup's CPU went mostly to serving it, not to the index: uvicorn builds an
ASGI scope, a request-response cycle and an asyncio task per request, and the app's middleware
layers each wrap `send`. A plain `GET /m/raw_lookup` (see `lookup_fast_path`) whose API key is
in the key cache and whose index is fresh is answered here, as soon as the request is parsed, with
the bytes the ASGI app would send (uvicorn's default headers, then the app's). Everything else,
including lookups that would wait on the store, goes through uvicorn and the app unchanged.
An HTTP/1.1 pipeline keeps its order: the inline answer is only given when no earlier request
of the connection is still being answered.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from safestream.api.lookup_fast_path import CONTENT_TYPE, PATH, RawLookupAnswers

_PATH = PATH.encode()
_CONTENT_TYPE = CONTENT_TYPE[0] + b": " + CONTENT_TYPE[1] + b"\r\n"


def answers_of(app: Any) -> RawLookupAnswers | None:
    """The app's raw lookup answers, looking through ASGI wrappers (uvicorn's proxy headers)."""
    for _ in range(8):
        state = getattr(app, "state", None)
        found = getattr(state, "raw_lookup_answers", None)
        if isinstance(found, RawLookupAnswers):
            return found
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


class LookupHttpProtocol(HttpToolsProtocol):
    """uvicorn's `HttpToolsProtocol`, answering plain raw lookups without an ASGI round."""

    _answers: RawLookupAnswers | None = None
    _authorization: bytes | None = None
    _inline: bytes | None = None

    def on_message_begin(self) -> None:
        """A new request: forget the previous one's inline state."""
        self._authorization = None
        self._inline = None
        super().on_message_begin()

    def on_header(self, name: bytes, value: bytes) -> None:
        """Keep the first Authorization header, as the app reads it."""
        super().on_header(name, value)
        if self._authorization is None and len(name) == 13 and name.lower() == b"authorization":
            self._authorization = self.headers[-1][1]

    def on_headers_complete(self) -> None:
        """Answer a plain raw lookup inline when nothing earlier is pending, else as uvicorn."""
        if self._try_inline():
            return
        super().on_headers_complete()

    def _try_inline(self) -> bool:
        if not self.url.startswith(_PATH) or self.parser.get_method() != b"GET":
            return False
        path, _, query = self.url.partition(b"?")
        pending = self.cycle is not None and not self.cycle.response_complete
        if path != _PATH or pending or self.parser.should_upgrade():
            return False
        if self._answers is None:
            self._answers = answers_of(self.app)
            if self._answers is None:
                return False
        body = self._answers.answer_now(query, self._authorization)
        if body is None:
            return False
        self._inline = body
        return True

    def on_body(self, body: bytes) -> None:
        """A body sent with an inline-answered GET is read and ignored, as the route does."""
        if self._inline is None:
            super().on_body(body)

    def on_message_complete(self) -> None:
        """Send the inline answer once the whole request is read."""
        body = self._inline
        if body is None:
            super().on_message_complete()
            return
        self._inline = None
        keep_alive = self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()
        head = [STATUS_LINE[200]]
        for name, value in self.server_state.default_headers:  # uvicorn's go first, as it sends
            head.append(name + b": " + value + b"\r\n")
        head.append(b"content-length: %d\r\n" % len(body) + _CONTENT_TYPE)  # the route's order
        if not keep_alive:
            head.append(b"connection: close\r\n")
        head.append(b"\r\n")
        head.append(body)
        self.transport.write(b"".join(head))
        if self.access_log:  # uvicorn's access line
            client = f"{self.client[0]}:{self.client[1]}" if self.client else ""
            url, version = self.url.decode("latin-1"), self.parser.get_http_version()
            self.access_logger.info('%s - "%s %s HTTP/%s" %d', client, "GET", url, version, 200)
        if not keep_alive:
            self.transport.close()
        self.on_response_complete()
