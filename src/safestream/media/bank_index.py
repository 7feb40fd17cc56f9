"""The PDQ index of every bank entry, kept on disk and caught up from the store's change log.

Opening a `BankIndex` loads the saved index and applies only the adds and removes logged since it
was saved, so a restart neither rehashes media nor rebuilds from all entries. The index is rebuilt
from the store only when its files are missing, unreadable, or belong to another store.

Several processes share one directory (server workers, `match`, `watch`): each write happens
under the directory's exclusive lock and starts from what is on disk. A process whose files
another one has saved over since adopts the saved index, catches it up from the store's change
log and appends to it, rather than writing its own older view over the other's.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from safestream.core.errors import StoreError
from safestream.core.signals import SignalType
from safestream.media.directory_lock import directory_lock
from safestream.media.index import PdqIndex, hex_to_codes, storage
from safestream.store.banks import BankRepository

STATE_FILE = "state.json"
STATE_VERSION = 1


def _store_fingerprint(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


class BankIndex:
    """A `PdqIndex` over all PDQ bank entries, persisted under one directory."""

    def __init__(self, banks: BankRepository, directory: Path) -> None:
        self.banks = banks
        self.directory = directory
        self.index = PdqIndex()
        self.applied_seq = 0
        self._fingerprint = _store_fingerprint(banks.db.url)
        # Why this index lives in memory only (the directory could not be written), if it does.
        self.read_only_reason: str | None = None

    @classmethod
    def open(cls, banks: BankRepository, directory: Path) -> BankIndex:
        """Load the saved index (or build it) and bring it up to date with the store.

        If the index cannot be saved (full disk, read-only folder), the index is built or caught
        up in memory instead, complete and correct for this process, and `read_only_reason`
        says why, so matching goes on with a warning rather than failing."""
        self = cls(banks, directory)
        try:
            with directory_lock(directory):
                if not self._load():
                    self.rebuild()
                else:
                    self.refresh(locked=True)
        except (StoreError, OSError) as exc:
            self.read_only_reason = str(exc).splitlines()[0]
            self._rebuild_in_memory()
        return self

    def _rebuild_in_memory(self) -> None:
        self.applied_seq = self.banks.last_change()
        self.index = PdqIndex()
        for batch in self.banks.iter_live_pdq():
            ids, values = zip(*batch, strict=True)
            self._add(list(ids), list(values))
        self.refresh(persist=False)

    @classmethod
    def load_saved(
        cls, banks: BankRepository, directory: Path, *, locked: bool = False
    ) -> BankIndex | None:
        """The saved index, caught up in memory only; None if there is none (never writes).

        Read under the directory's shared lock, unless the caller holds the lock (`locked`)."""
        self = cls(banks, directory)
        try:
            with ExitStack() as stack:
                if not locked:
                    stack.enter_context(directory_lock(directory, shared=True))
                if not self._load():
                    return None
        except OSError:
            return None
        self.refresh(persist=False)
        return self

    def base_on_disk(self) -> str | None:
        """The base file the directory now names (another process may have saved a new one)."""
        current = storage.read_current(self.directory)
        return None if current is None else current[0]

    def refresh(self, *, persist: bool = True, locked: bool = False) -> int:
        """Apply changes logged since the last refresh; return how many were applied.

        With `persist` (the default) the changes are saved under the directory's exclusive lock
        (taken here unless the caller holds it: `locked`). With `persist=False` they stay in
        memory only: a server worker that does not hold the lock must not write files another
        process is writing.
        """
        if not persist or self.read_only_reason is not None:  # kept in memory: never saved
            return self._catch_up()[0]
        with ExitStack() as stack:
            if not locked:
                stack.enter_context(directory_lock(self.directory))
            # Missing, corrupt or foreign files are replaced by this index, saved whole.
            unusable = not self.index.in_step_with(self.directory) and not self._adopt_saved()
            applied, rebuilt = self._catch_up()
            if applied or rebuilt or unusable:
                self.save()
            return applied

    def _adopt_saved(self) -> bool:
        """Replace this index by the one saved on disk (another process saved since this one
        loaded or saved); False when there is none to adopt (this one is then saved whole)."""
        previous = self.index
        previous_seq = self.applied_seq
        if not self._load():
            self.index, self.applied_seq = previous, previous_seq
            return False
        self.index.defer_rebuilds = previous.defer_rebuilds
        self.index.background_rows = previous.background_rows
        return True

    def _catch_up(self) -> tuple[int, bool]:
        """Apply the logged changes in memory: (how many, whether the index was rebuilt)."""
        self.index.settle()  # swap in a finished background rebuild even when nothing changed
        newest = self.banks.last_change()
        if newest < self.applied_seq:  # the store was reset under us
            self._rebuild_in_memory()
            return 0, True
        applied = 0
        while True:
            changes = self.banks.changes_since(self.applied_seq)
            if not changes:
                break
            adds_ids: list[int] = []
            adds_hex: list[str] = []
            for change in changes:
                if change.signal_type != SignalType.PDQ.value:
                    continue
                if change.op == "add":
                    adds_ids.append(change.entry_id)
                    adds_hex.append(change.value)
                else:
                    # Flush pending adds first so an add-then-remove in one batch ends removed.
                    self._add(adds_ids, adds_hex)
                    adds_ids, adds_hex = [], []
                    self.index.remove(np.array([change.entry_id], dtype=np.int64))
            self._add(adds_ids, adds_hex)
            self.applied_seq = changes[-1].seq
            applied += len(changes)
        return applied, False

    def rebuild(self) -> None:
        """Build the index from every PDQ entry in the store and save it (the caller holds the
        directory's lock)."""
        self._rebuild_in_memory()
        self.save()

    def save(self) -> None:
        """Write the index and the change-log position it reflects."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.index.save(self.directory)
        state = {
            "version": STATE_VERSION,
            "applied_seq": self.applied_seq,
            "store": self._fingerprint,
            "size": len(self.index),
        }
        tmp = self.directory / (STATE_FILE + ".tmp")
        try:
            tmp.write_text(json.dumps(state))
            os.replace(tmp, self.directory / STATE_FILE)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _load(self) -> bool:
        path = self.directory / STATE_FILE
        try:
            state = json.loads(path.read_text())
            if state.get("version") != STATE_VERSION or state.get("store") != self._fingerprint:
                return False
            self.index = PdqIndex.load(self.directory)
            self.applied_seq = int(state["applied_seq"])
            return True
        except (OSError, ValueError, KeyError, StoreError):
            # Missing, torn or foreign files: rebuilding from the store is always safe.
            return False

    def _add(self, ids: list[int], values: list[str]) -> None:
        if ids:
            self.index.add(np.asarray(ids, dtype=np.int64), hex_to_codes(values))
