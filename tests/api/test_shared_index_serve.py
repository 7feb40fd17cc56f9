"""`safestream serve` (two workers) and the command line share one index directory: bank
imports and `match` runs while the server answers lookups leave every process, and the saved
files, holding every entry."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from safestream.cli import app
from safestream.core.config import Settings
from safestream.media.index import PdqIndex, hex_to_codes
from safestream.store import Database
from safestream.store.banks import BankRepository
from tests.cli.serving import wait_until_ready

ROUNDS = 3
PER_ROUND = 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(home: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SAFESTREAM_HOME": str(home)}
    env.pop("SAFESTREAM_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "safestream.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _hash_list(path: Path, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    hashes = [rng.bytes(32).hex() for _ in range(PER_ROUND)]
    path.write_text("".join(f"pdq {h}\n" for h in hashes))
    return hashes


@pytest.fixture
def server(home: Path) -> Iterator[tuple[str, dict[str, str]]]:
    runner = CliRunner()
    assert runner.invoke(app, ["org", "create", "Acme"]).exit_code == 0
    key = json.loads(runner.invoke(app, ["apikey", "create", "Acme"]).stdout)["api_key"]
    assert runner.invoke(app, ["bank", "create", "known"]).exit_code == 0
    port = _free_port()
    env = {**os.environ, "SAFESTREAM_HOME": str(home)}
    env.pop("SAFESTREAM_DATABASE_URL", None)
    command = [sys.executable, "-m", "safestream.cli", "serve", "--port", str(port),
               "--workers", "2", "--linker", "off"]  # fmt: skip
    process = subprocess.Popen(command, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(process, base, timeout=90)
        yield base, {"Authorization": f"Bearer {key}"}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _found(base: str, headers: dict[str, str], hashes: list[str]) -> list[list[int]]:
    r = httpx.post(f"{base}/v1/lookup", json={"hashes": hashes, "threshold": 0},
                   headers=headers, timeout=30)  # fmt: skip
    assert r.status_code == 200, r.text
    return [[m["entry_id"] for m in x["matches"]] for x in r.json()["results"]]


def _store_ids(home: Path) -> dict[str, int]:
    db = Database(Settings(home=home).database_url)
    try:
        return {value: i for batch in BankRepository(db).iter_live_pdq() for i, value in batch}
    finally:
        db.dispose()


@pytest.mark.slow
def test_cli_imports_and_matches_while_serving_leave_one_complete_index(
    home: Path, tmp_path: Path, server: tuple[str, dict[str, str]]
) -> None:
    base, headers = server
    first = _hash_list(tmp_path / "first.txt", 0)
    assert _cli(home, "bank", "import", "known", str(tmp_path / "first.txt")).wait() == 0
    stop = threading.Event()
    errors: list[str] = []

    def keep_looking_up() -> None:  # the workers refresh (and save) between CLI writes
        while not stop.is_set():
            try:
                _found(base, headers, first[:5])
            except AssertionError as exc:
                errors.append(str(exc))
            time.sleep(0.05)

    looker = threading.Thread(target=keep_looking_up)
    looker.start()
    everything = list(first)
    try:
        for round_ in range(1, ROUNDS + 1):
            everything += _hash_list(tmp_path / f"round{round_}.txt", round_)
            writers = [
                _cli(home, "bank", "import", "known", str(tmp_path / f"round{round_}.txt")),
                _cli(home, "match", "--hash", everything[-1]),
                _cli(home, "match", "--hash", first[0]),
            ]
            for writer in writers:
                _, err = writer.communicate(timeout=120)
                assert writer.returncode in (0, 1), err.decode()
    finally:
        stop.set()
        looker.join()
    assert errors == []
    ids = _store_ids(home)
    time.sleep(1.2)  # workers catch up with the store at most once a second
    for _ in range(4):  # both workers answer some of these
        assert _found(base, headers, everything) == [[ids[h]] for h in everything]
    assert _cli(home, "match", "--hash", first[0]).wait() == 0
    directory = Settings(home=home).pdq_index_dir
    assert len(list(directory.glob("base-*.pdqi"))) == 1  # one index on this machine
    assert not list((home / "index").glob("*.pdqi"))
    saved = PdqIndex.load(directory)
    on_disk = [i.tolist() for i, _ in saved.query_many(hex_to_codes(everything), 0)]
    assert on_disk == [[ids[h]] for h in everything]
