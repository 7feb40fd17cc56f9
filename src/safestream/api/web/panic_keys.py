"""Publishable panic-button keys: safe in a web page because they can only file panic reports.

A key names its organisation and carries an HMAC of it under the home's console secret:
`pk_panic_<org id>_<32 hex>`. Nothing about it is stored, so any server sharing the home can check
it; rotating the secret file revokes every panic key at once. An organisation's API key (which can
read and write much more) must never be put in a browser; this is the key that goes there instead.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from safestream.core.errors import PermissionDenied

PREFIX = "pk_panic_"
_SHAPE = re.compile(r"^pk_panic_(\d{1,12})_([0-9a-f]{32})$")


class PanicKeyRejected(PermissionDenied):
    """The bearer token is not a valid panic-button key of this server."""

    http_status = 401


class PanicKeys:
    """Issues and checks publishable panic-button keys under one secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _tag(self, org_id: int) -> str:
        message = f"panic-button:{org_id}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def issue(self, org_id: int) -> str:
        """The panic-button key of an organisation (the same every time for the same secret)."""
        return f"{PREFIX}{org_id}_{self._tag(org_id)}"

    def org_of(self, key: str) -> int:
        """The organisation id a key was issued for, or raise `PanicKeyRejected`."""
        found = _SHAPE.match(key.strip())
        if not found:
            raise PanicKeyRejected("not a panic-button key (expected pk_panic_...)")
        org_id = int(found.group(1))
        if not hmac.compare_digest(found.group(2), self._tag(org_id)):
            raise PanicKeyRejected("panic-button key not issued by this server")
        return org_id
