"""`make demo` serves where it says, even when its port is taken."""

from __future__ import annotations

import socket

from safestream.demo import listening_socket


def test_demo_binds_the_port_it_is_given_when_free() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    free = probe.getsockname()[1]
    probe.close()
    with listening_socket("127.0.0.1", free) as sock:
        assert sock.getsockname()[1] == free


def test_demo_takes_a_free_port_when_its_port_is_taken() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with listening_socket("127.0.0.1", taken) as sock:
            got = sock.getsockname()[1]
            assert got not in (taken, 0)
            with socket.create_connection(("127.0.0.1", got), timeout=2):
                pass
