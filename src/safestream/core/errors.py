"""The one error tree of SafeStream, mapped once to CLI exit codes and HTTP statuses.

SafeStreamError
├── InvalidInput          bad data from outside (422 / exit 1)
│   ├── InvalidSignal     a hash that is not a hash of its type
│   ├── UnsupportedMedia  a file that is not an image or video we can read
│   └── MediaTooLarge     over the pixel, byte or duration limit (413)
├── NotFound              (404)
│   ├── BankNotFound
│   └── EntryNotFound
├── Conflict              already exists / claimed elsewhere (409)
├── PermissionDenied      (403)
├── ExchangeError         a hash-list or signal exchange failed
└── StoreError            the database or index files failed (500 / exit 1)
    ├── StoreUnavailable  the database cannot take a write now (503, Retry-After)
    └── StorageFull       no space left for the write (507, Retry-After)
"""

from __future__ import annotations


class SafeStreamError(Exception):
    """Base of every error SafeStream raises on purpose."""

    http_status = 500
    exit_code = 1


class InvalidInput(SafeStreamError):
    """Input from outside SafeStream is malformed."""

    http_status = 422


class InvalidSignal(InvalidInput):
    """A hash value is not valid for its signal type."""


class UnsupportedMedia(InvalidInput):
    """A file is not media SafeStream can decode (corrupt, empty, wrong kind)."""

    http_status = 415


class MediaTooLarge(InvalidInput):
    """Media exceeds a configured limit (pixels, bytes or duration)."""

    http_status = 413


class NotFound(SafeStreamError):
    """A named thing does not exist."""

    http_status = 404


class BankNotFound(NotFound):
    """No bank has this name."""


class EntryNotFound(NotFound):
    """No bank entry has this id."""


class Conflict(SafeStreamError):
    """The thing already exists or is held by someone else."""

    http_status = 409


class PermissionDenied(SafeStreamError):
    """The caller's role does not allow this."""

    http_status = 403


class ExchangeError(SafeStreamError):
    """Importing from or exporting to a hash or signal exchange failed."""


class StoreError(SafeStreamError):
    """The store (database or index files) failed."""


class StoreUnavailable(StoreError):
    """The database is unreachable or restarting: nothing was stored, try again shortly."""

    http_status = 503
    retry_after = 2


class StorageFull(StoreError):
    """The disk (or the database's) is full: nothing was stored until space is freed."""

    http_status = 507
    retry_after = 30


USAGE_EXIT_CODE = 2
