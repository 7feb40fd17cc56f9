"""SafeStream's own detectors find or create their organisation, even when several start at once."""

from __future__ import annotations

import threading

from safestream.store.access import ensure_org
from safestream.store.database import Database


def test_detectors_starting_together_share_one_organisation(database: Database) -> None:
    ids: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def detector() -> None:
        start.wait()
        try:
            ids.append(ensure_org(database, "SafeStream detectors").id)
        except BaseException as error:  # the test reports any failure
            errors.append(error)

    threads = [threading.Thread(target=detector) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(ids)) == 1 and len(ids) == 8
