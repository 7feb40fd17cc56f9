"""The PDQ index of every bank entry, kept on disk and caught up from the store's change log.

Opening a `BankIndex` loads the saved index and applies only the adds and removes logged since it
was saved, so a restart neither rehashes media nor rebuilds from all entries. The index is rebuilt
from the store only when its files are missing, unreadable, or belong to another store.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from safestream.core.errors import StoreError
from safestream.core.signals import SignalType
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
            if not self._load():
                self.rebuild()
            else:
                self.refresh()
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
    def load_saved(cls, banks: BankRepository, directory: Path) -> BankIndex | None:
        """The saved index, caught up in memory only; None if there is none (never writes)."""
        self = cls(banks, directory)
        if not self._load():
            return None
        self.refresh(persist=False)
        return self

    def base_on_disk(self) -> str | None:
        """The base file the directory now names (another process may have saved a new one)."""
        current = storage.read_current(self.directory)
        return None if current is None else current[0]

    def refresh(self, *, persist: bool = True) -> int:
        """Apply changes logged since the last refresh; return how many were applied.

        With `persist=False` the changes stay in memory only: a server worker that does not hold
        the index directory's lock must not write files another worker is writing.
        """
        self.index.settle()  # swap in a finished background rebuild even when nothing changed
        newest = self.banks.last_change()
        if newest < self.applied_seq:  # the store was reset under us
            self.rebuild()
            return 0
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
        if applied and persist:
            self.save()
        return applied

    def rebuild(self) -> None:
        """Build the index from every PDQ entry in the store and save it."""
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
