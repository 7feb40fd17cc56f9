"""Closed-loop load from wrk (Debian package `wrk`), for the HTTP lookup and upload benches.

wrk is a C load generator: on the same two cores as the servers it takes about 50-80 us of CPU
per request where the bench's asyncio client takes several times that, so more of the machine
is left to the server being measured. Each connection cycles through the given GET paths, or
POSTs the given bodies (files read by wrk's Lua script) to one path.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def available() -> bool:
    """Whether `wrk` is on PATH."""
    return shutil.which("wrk") is not None


def _script(paths: list[str]) -> str:
    listed = ",\n".join(f'"{p}"' for p in paths)
    return (
        f"paths = {{\n{listed}\n}}\n"
        "counter = 0\n"
        "init = function(args) counter = math.random(#paths) end\n"
        "request = function()\n"
        "  counter = counter % #paths + 1\n"
        '  return wrk.format("GET", paths[counter])\n'
        "end\n"
    )


def _post_script(path: str, bodies: list[Path]) -> str:
    listed = ",\n".join(f'"{b}"' for b in bodies)
    return (
        f"files = {{\n{listed}\n}}\n"
        "bodies = {}\n"
        "for i, name in ipairs(files) do\n"
        '  local f = io.open(name, "rb"); bodies[i] = f:read("*a"); f:close()\n'
        "end\n"
        "counter = 0\n"
        "init = function(args) counter = math.random(#bodies) end\n"
        "request = function()\n"
        "  counter = counter % #bodies + 1\n"
        f'  return wrk.format("POST", "{path}", nil, bodies[counter])\n'
        "end\n"
    )


def _ms(out: str, label: str) -> float:
    found = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out)
    if found is None:
        raise RuntimeError(f"wrk printed no {label} latency:\n{out}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def run(
    port: int, paths: list[str], headers: dict[str, str], connections: int, seconds: float
) -> tuple[int, float, float, float, int]:
    """(requests, seconds, p50 ms, p99 ms, errors) of one closed-loop run of GETs."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "paths.lua"
        script.write_text(_script(paths))
        return _run(script, port, headers, connections, seconds)


def run_posts(
    port: int,
    path: str,
    bodies: list[bytes],
    headers: dict[str, str],
    connections: int,
    seconds: float,
) -> tuple[int, float, float, float, int]:
    """(requests, seconds, p50 ms, p99 ms, errors) of one closed-loop run POSTing `bodies`
    in turn to `path` (headers such as the content type given in `headers`)."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        files = []
        for n, body in enumerate(bodies):
            files.append(Path(tmp) / f"body-{n}")
            files[-1].write_bytes(body)
        script = Path(tmp) / "posts.lua"
        script.write_text(_post_script(path, files))
        return _run(script, port, headers, connections, seconds)


def _run(
    script: Path, port: int, headers: dict[str, str], connections: int, seconds: float
) -> tuple[int, float, float, float, int]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "--latency", "-s", str(script)]  # fmt: skip
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}")
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s)", out)
    if total is None:
        raise RuntimeError(f"wrk printed no totals:\n{out}")
    elapsed = float(total.group(2)) / (1000.0 if total.group(3) == "ms" else 1.0)
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    errors = (int(failed.group(1)) if failed else 0) + socket_errors
    return int(total.group(1)), elapsed, _ms(out, "50%"), _ms(out, "99%"), errors
