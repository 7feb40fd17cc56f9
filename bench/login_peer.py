"""The peer of `bench_login_memory`: a login that checks Argon2id for every request at once.

This is how the console checked passwords before the bound on concurrent hashing (and how a
plain framework login does): each request runs `PasswordHasher.verify` in the server's thread
pool, so N parallel guesses cost N x 64 MiB of Argon2 memory. Same hasher defaults as SafeStream.

Run by the benchmark: `uvicorn bench.login_peer:app`; the hash to check is read from the file
named by $LOGIN_PEER_HASH_FILE.
"""

from __future__ import annotations

import os
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

_HASHER = PasswordHasher()
_HASH = Path(os.environ.get("LOGIN_PEER_HASH_FILE", "/dev/null")).read_text().strip()


def _check(password: str) -> bool:
    try:
        return _HASHER.verify(_HASH, password)
    except VerificationError:
        return False


async def login(request: Request) -> Response:
    """401 for a wrong password, 303 for the right one (as the console answers)."""
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    ok = await run_in_threadpool(_check, str(form.get("password", "")))
    return PlainTextResponse("", status_code=303 if ok else 401)


app = Starlette(routes=[Route("/login", login, methods=["POST"])])
