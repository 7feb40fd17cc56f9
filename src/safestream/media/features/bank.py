"""The feature index of every second-stage bank entry, saved on disk and caught up from the store.

Same contract as `BankIndex` for PDQ: opening loads the saved index and applies only the adds
and removes logged since; it rebuilds from the store's feature records when the files are
missing, unreadable or belong to another store. Negative (allowlist) banks are indexed too, so
a frame showing a common scene on the allowlist can silence the matches it would raise.
Processes sharing the directory (`match`, `watch`) save under its exclusive lock, so one's
files never pair with another's state file.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import ExitStack
from pathlib import Path

from safestream.core.errors import SafeStreamError, StoreError
from safestream.media.directory_lock import directory_lock
from safestream.media.features.extract import LocalFeatures
from safestream.media.features.index import FeatureIndex
from safestream.store.banks import LOCAL_SIGNAL, BankRepository

STATE_FILE = "state.json"
STATE_VERSION = 1


class FeatureBank:
    """A `FeatureIndex` over all "local" bank entries, persisted under one directory."""

    def __init__(self, banks: BankRepository, directory: Path) -> None:
        self.banks = banks
        self.directory = directory
        self.index = FeatureIndex()
        self.negative: set[int] = set()
        self.applied_seq = 0
        self._fingerprint = hashlib.sha256(banks.db.url.encode()).hexdigest()[:16]
        # Why this index lives in memory only (the directory could not be written), if it does.
        self.read_only_reason: str | None = None

    @classmethod
    def open(cls, banks: BankRepository, directory: Path) -> FeatureBank:
        """Load the saved index (or build it) and bring it up to date with the store; if it
        cannot be saved (full or read-only disk), build it in memory and say why in
        `read_only_reason`, as `BankIndex.open` does."""
        self = cls(banks, directory)
        try:
            with directory_lock(directory):
                if self._load():
                    self.refresh(locked=True)
                else:
                    self.rebuild()
        except (StoreError, OSError) as exc:
            self.read_only_reason = str(exc).splitlines()[0]
            self._rebuild_in_memory()
        return self

    @classmethod
    def in_memory(cls, banks: BankRepository) -> FeatureBank:
        """Built from the store and never saved (for processes that share no index folder)."""
        self = cls(banks, Path())
        self.read_only_reason = "kept in memory"
        self._rebuild_in_memory()
        return self

    def refresh(self, *, persist: bool = True, locked: bool = False) -> int:
        """Apply changes logged since the last refresh; return how many were applied.

        Saved (with `persist`) under the directory's exclusive lock, taken here unless the
        caller holds it (`locked`)."""
        if not persist or self.read_only_reason is not None:  # kept in memory: never saved
            return self._catch_up(persist=False)
        with ExitStack() as stack:
            if not locked:
                stack.enter_context(directory_lock(self.directory))
            return self._catch_up(persist=True)

    def _catch_up(self, *, persist: bool) -> int:
        if self.banks.last_change() < self.applied_seq:  # the store was reset under us
            if persist:
                self.rebuild()
            else:
                self._rebuild_in_memory()
            return 0
        applied = 0
        while True:
            changes = self.banks.changes_since(self.applied_seq)
            if not changes:
                break
            adds: list[int] = []
            for change in changes:
                if change.signal_type != LOCAL_SIGNAL:
                    continue
                if change.op == "add":
                    adds.append(change.entry_id)
                else:
                    self._add(adds)
                    adds = []
                    self.index.remove(change.entry_id)
                    self.negative.discard(change.entry_id)
            self._add(adds)
            self.applied_seq = changes[-1].seq
            applied += len(changes)
        if applied and persist:
            self.save()
        return applied

    def rebuild(self) -> None:
        """Build the index from every feature record in the store and save it (the caller
        holds the directory's lock)."""
        self._rebuild_in_memory()
        self.save()

    def _rebuild_in_memory(self) -> None:
        self.applied_seq = self.banks.last_change()
        self.index = FeatureIndex()
        self.negative = set()
        for ids in self.banks.iter_live_features():
            self._add(ids)
        self.refresh(persist=False)

    def save(self) -> None:
        """Write the index and the change-log position it reflects (no .tmp left on failure)."""
        try:
            self.index.save(self.directory)
            state = {
                "version": STATE_VERSION,
                "applied_seq": self.applied_seq,
                "store": self._fingerprint,
                "negative": sorted(self.negative),
            }
            tmp = self.directory / (STATE_FILE + ".tmp")
            tmp.write_text(json.dumps(state))
            os.replace(tmp, self.directory / STATE_FILE)
        except BaseException:
            for leftover in self.directory.glob("*.tmp*"):
                leftover.unlink(missing_ok=True)
            raise

    def _load(self) -> bool:
        try:
            state = json.loads((self.directory / STATE_FILE).read_text())
            if state.get("version") != STATE_VERSION or state.get("store") != self._fingerprint:
                return False
            self.index = FeatureIndex.load(self.directory)
            self.applied_seq = int(state["applied_seq"])
            self.negative = {int(i) for i in state.get("negative", [])}
            return True
        except (OSError, ValueError, KeyError, TypeError, StoreError):
            # Missing, torn or foreign files: rebuilding from the store is always safe.
            return False

    def _add(self, ids: list[int]) -> None:
        if not ids:
            return
        items = []
        for entry_id, (kind, negative, data) in sorted(self.banks.local_features(ids).items()):
            try:
                features = LocalFeatures.from_bytes(data)
            except SafeStreamError:
                continue  # a damaged record is skipped, never fatal to the whole index
            items.append((entry_id, features, kind))
            if negative:
                self.negative.add(entry_id)
        self.index.add_many(items)
