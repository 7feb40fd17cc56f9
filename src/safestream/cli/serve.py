"""`safestream serve` and `safestream link`: the API server and the process that links cases.

`serve` runs the API; by default it also starts `link`, which links stored reports into cases in
its own lower-priority process so that linking never takes the CPU intake needs. Whatever
`serve` starts it stops again, on SIGTERM (systemd, container runtimes) as on Ctrl-C; the link
process also dies with `serve` if `serve` is killed outright.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

import typer

from safestream.cli import context
from safestream.cli.output import note

if TYPE_CHECKING:
    from safestream.core.config import Settings

# The linker's own default (`safestream.api.linker.LINKER_NICENESS`; a test keeps them equal),
# repeated so that `--help` need not import the API.
LINK_NICENESS = 10
LINK_STOP_SECONDS = 30
# A worker also maps the bank index and compiles its lookup kernels before it answers: 111 s
# were measured for that on a machine at load average 13, so 60 s is not enough.
WORKER_START_SECONDS = 300
_PR_SET_PDEATHSIG = 1


class LinkerMode(StrEnum):
    """Where `serve` links stored reports into cases."""

    PROCESS = "process"  # a separate, lower-priority `safestream link` process (the default)
    THREAD = "thread"  # a thread inside each server process
    OFF = "off"  # a pure intake node: a `safestream link` elsewhere links


class _Terminated(Exception):
    """SIGTERM arrived: unwind, stop what was started, then die of the signal."""


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, max=64, help="Server processes."),
    linker: LinkerMode = typer.Option(
        LinkerMode.PROCESS,
        help="Link reports in a separate low-priority process, a thread, or off.",
    ),
    log_level: str = typer.Option(
        "info", help="Least severe log line written: debug, info, warning or error."
    ),
    log_format: str = typer.Option(
        "auto", help="Log lines as json, text, or auto (text on a terminal, else json)."
    ),
    access_log: bool = typer.Option(True, help="Write one log line per request."),
) -> None:
    """Serve the API and the review console (migrating the store first).

    \b
    Examples:
      safestream serve
      safestream serve --host 0.0.0.0 --port 8080 --workers 2
      safestream serve --linker off     (an intake node; run `safestream link` elsewhere)
      safestream serve --log-level warning --no-access-log
    """
    logs = _log_config(log_level, log_format, access_log)
    settings = context.settings()
    context.open_database().dispose()
    server_settings = settings.with_changes(link_in_server=linker is LinkerMode.THREAD)
    link = _start_link(settings) if linker is LinkerMode.PROCESS else None
    note(f"SafeStream on http://{host}:{port}  (API docs at /docs)")
    terminated = False
    try:
        with _sigterm_unwinds():
            _run_server(server_settings, host, port, workers, logs)
    except _Terminated:
        terminated = True
    finally:
        _stop(link)
    if terminated:
        # Die of SIGTERM as the sender expects, now that nothing is left behind.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)


def _log_config(level: str, form: str, access_log: bool) -> dict[str, Any]:
    from safestream.cli.server_logs import LEVELS, log_config

    if level not in LEVELS:
        raise typer.BadParameter(f"choose one of {', '.join(LEVELS)}", param_hint="--log-level")
    if form not in ("auto", "json", "text"):
        raise typer.BadParameter("choose json, text or auto", param_hint="--log-format")
    json_lines = form == "json" or (form == "auto" and not sys.stderr.isatty())
    return log_config(level, json_lines=json_lines, access_log=access_log)


def _run_server(
    settings: Settings, host: str, port: int, workers: int, logs: dict[str, Any]
) -> None:
    import uvicorn

    from safestream.api.app import server_app
    from safestream.api.lookup_protocol import LookupHttpProtocol

    config = uvicorn.Config(
        # A picklable factory: each worker process builds its app from these settings.
        partial(server_app, settings),
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=logs,
        # uvicorn's httptools protocol, answering plain hash lookups without an ASGI round.
        http=LookupHttpProtocol,
        # A worker answers the supervisor's pings only once it has imported the app; on a busy
        # machine that takes longer than uvicorn's 5 s, and it would kill and respawn it forever.
        timeout_worker_healthcheck=WORKER_START_SECONDS,
    )
    from safestream.cli.worker_sockets import OwnSocketWorkers, reuse_port_sockets

    sockets = reuse_port_sockets(host, port, workers)  # a busy port fails here, with one message
    if workers == 1:
        uvicorn.Server(config).run(sockets=sockets)
        return
    OwnSocketWorkers(config, sockets).run()


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    def terminated(signum: int, frame: object) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # Linux: if `serve` is killed outright (SIGKILL), the kernel sends the child SIGTERM.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _start_link(settings: Settings) -> subprocess.Popen[bytes]:
    # The child gets this invocation's settings through its environment, so both agree.
    return subprocess.Popen(
        [sys.executable, "-m", "safestream.cli", "link"],
        env={**os.environ, **settings.to_environ()},
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=LINK_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def link(
    nice: int = typer.Option(LINK_NICENESS, min=0, max=19, help="CPU niceness to run at."),
    idle: bool = typer.Option(
        True, help="Run only on otherwise idle CPU (Linux SCHED_IDLE); else at --nice."
    ),
) -> None:
    """Link stored reports into cases until stopped (what `serve` starts beside intake), and
    send the alerts linking raises to the webhooks in `notify.yaml` in the home.

    \b
    Examples:
      safestream link
      safestream link --no-idle --nice 5
    """
    from safestream.api.heap import settle_startup_heap
    from safestream.api.linker import outbox_for, run_linker_process
    from safestream.cases.engine import CaseEngine
    from safestream.store.database import Database

    settings = context.settings()
    db = Database.from_settings(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    outbox = outbox_for(db, settings)
    engine = CaseEngine.for_settings(db, settings)
    settle_startup_heap()
    try:
        run_linker_process(
            engine,
            niceness=nice,
            idle=idle,
            stop=stop,
            outbox=outbox,
        )
    except KeyboardInterrupt:
        pass
    finally:
        outbox.close()
        db.dispose()


def register(app: typer.Typer) -> None:
    """Add `serve` and `link` to the root `safestream` app."""
    app.command("serve")(serve)
    app.command("link")(link)
