"""`serve`'s HTTP protocol answers plain raw lookups inline with the bytes the app would send,
in order within a pipeline, and leaves every other request to uvicorn and the app."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from safestream.api.app import create_app
from safestream.api.lookup_protocol import LookupHttpProtocol
from safestream.core.config import Settings
from safestream.store.access import create_api_key, create_org

CAT = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
NEAR_CAT = CAT[:-1] + "3"


class Served:
    """A running server with one bank holding CAT, and a platform's API key."""

    def __init__(self, port: int, key: str, content_id: int) -> None:
        self.port, self.key, self.content_id = port, key, content_id

    def exchange(self, raw: bytes, answers: int = 1) -> list[bytes]:
        """Send raw bytes on one connection and read `answers` responses (each head + body)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as conn:
            conn.sendall(raw)
            data = b""
            out: list[bytes] = []
            while len(out) < answers:
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                while len(rest) < length:
                    rest += conn.recv(65536)
                out.append(head + b"\r\n\r\n" + rest[:length])
                data = rest[length:]
            return out

    def get(self, query: str, key: str | None = None, version: str = "1.1") -> bytes:
        """The request line and headers of a raw lookup."""
        auth = f"Authorization: Bearer {key or self.key}\r\n"
        return (f"GET /m/raw_lookup?{query} HTTP/{version}\r\nHost: x\r\n{auth}\r\n").encode()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = Settings(
        home=tmp_path / "home",
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        bank_curators="Hotline",
    )
    app = create_app(settings, link_in_background=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = uvicorn.Config(app, port=port, http=LookupHttpProtocol, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        create_org(app.state.db, "Hotline")
        create_org(app.state.db, "Acme Video")
        curator = {"Authorization": f"Bearer {create_api_key(app.state.db, 'Hotline').key}"}
        base = f"http://127.0.0.1:{port}"
        httpx.post(f"{base}/c/banks", json={"name": "MY_BANK"}, headers=curator)
        added = httpx.post(f"{base}/c/bank/MY_BANK/signal", json={"pdq": CAT}, headers=curator)
        key = create_api_key(app.state.db, "Acme Video").key
        # One lookup through the app caches the key and catches the index up: what follows
        # within the second is answered inline.
        platform = {"Authorization": f"Bearer {key}"}
        httpx.get(f"{base}/m/raw_lookup?signal_type=pdq&signal={CAT}", headers=platform)
        yield Served(port, key, added.json()["id"])
    finally:
        server.should_exit = True
        thread.join(30)
        app.state.db.dispose()


def _without_date(response: bytes) -> bytes:
    return b"\r\n".join(line for line in response.split(b"\r\n") if not line.startswith(b"date:"))


def test_inline_answer_is_the_routes_answer_byte_for_byte(served: Served) -> None:
    plain = f"signal_type=pdq&signal={NEAR_CAT}&include_distance=true"
    # A bank filter is answered by the declared FastAPI route, not inline.
    (routed,) = served.exchange(served.get(plain + "&banks=MY_BANK"))
    (inline,) = served.exchange(served.get(plain))
    assert _without_date(inline) == _without_date(routed)
    body = f'{{"matches":[{{"bank_content_id":{served.content_id},"distance":"1"}}]}}'
    assert inline.endswith(b"\r\n\r\n" + body.encode())
    (ids_only,) = served.exchange(served.get(f"signal_type=pdq&signal={NEAR_CAT}"))
    assert ids_only.endswith(f'{{"matches":[{served.content_id}]}}'.encode())


def test_pipelined_requests_are_answered_in_order(served: Served) -> None:
    far = "0" * 64
    requests = [
        served.get(f"signal_type=pdq&signal={NEAR_CAT}"),
        served.get(f"signal_type=pdq&signal={NEAR_CAT}&banks=MY_BANK"),  # through the app
        served.get(f"signal_type=pdq&signal={far}"),
        served.get("signal_type=pdq&signal=nothex"),  # the route's 400
        served.get(f"signal_type=pdq&signal={NEAR_CAT}"),
    ]
    answers = served.exchange(b"".join(requests), answers=len(requests))
    bodies = [a.split(b"\r\n\r\n", 1)[1] for a in answers]
    hit = f'{{"matches":[{served.content_id}]}}'.encode()
    assert bodies[:3] + bodies[4:] == [hit, hit, b'{"matches":[]}', hit]
    assert answers[3].startswith(b"HTTP/1.1 400")


def test_http_1_0_lookup_is_answered_and_closed(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as conn:
        conn.sendall(served.get(f"signal_type=pdq&signal={NEAR_CAT}", version="1.0"))
        data = b""
        while chunk := conn.recv(65536):  # the server closes the connection after answering
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK") and b"connection: close\r\n" in data
    assert data.endswith(f'{{"matches":[{served.content_id}]}}'.encode())


def test_refused_and_unknown_keys_get_the_routes_401(served: Served) -> None:
    for key in ("not-a-key", served.key + "x"):
        (answer,) = served.exchange(served.get(f"signal_type=pdq&signal={CAT}", key=key))
        assert answer.startswith(b"HTTP/1.1 401")
    (again,) = served.exchange(served.get(f"signal_type=pdq&signal={CAT}"))
    assert again.startswith(b"HTTP/1.1 200")
