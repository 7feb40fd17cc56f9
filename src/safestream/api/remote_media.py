"""Fetching media by URL, only from hosts an administrator allows.

A hashing server that fetches any URL it is given is a server-side request forgery tool: it can
be pointed at internal services. So SafeStream fetches nothing unless the host (or a parent
domain) is in the `fetch_allowed_hosts` setting; redirects are followed only to allowed hosts;
the body is read in chunks and abandoned past `fetch_max_bytes`; a slow host times out.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlparse

import httpx

from safestream.core.errors import InvalidInput, MediaTooLarge, SafeStreamError

MAX_REDIRECTS = 3
TIMEOUT_SECONDS = 30.0


class FetchRefused(SafeStreamError):
    """The URL is not one this installation fetches from."""

    http_status = 403


class FetchFailed(SafeStreamError):
    """The remote host did not deliver the file."""

    http_status = 400


def allowed_hosts(setting: str) -> frozenset[str]:
    """Host names from a comma-separated setting, lower-cased."""
    return frozenset(h.strip().lower().rstrip(".") for h in setting.split(",") if h.strip())


def check_url(url: str, hosts: frozenset[str]) -> str:
    """The URL's host if it may be fetched; else raise `FetchRefused` or `InvalidInput`."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidInput(f"not an http(s) URL: {url!r}")
    try:
        _ = parsed.port  # raises for a port that is not a number
    except ValueError as exc:
        raise InvalidInput(f"bad port in URL {url!r}") from exc
    host = parsed.hostname.lower().rstrip(".")
    if not hosts:
        raise FetchRefused(
            "fetching by URL is off: an administrator lists hosts in fetch_allowed_hosts"
        )
    if not any(host == h or host.endswith("." + h) for h in hosts):
        raise FetchRefused(f"host {host!r} is not in this installation's fetch_allowed_hosts")
    return host


def fetch(url: str, hosts: frozenset[str], max_bytes: int) -> tuple[bytes, str]:
    """Download a URL from an allowed host; return its bytes and Content-Type."""
    current = url
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_url(current, hosts)
            try:
                with client.stream("GET", current) as response:
                    if response.is_redirect:
                        current = urljoin(current, response.headers.get("location", ""))
                        continue
                    if response.status_code != 200:
                        raise FetchFailed(f"{current} answered HTTP {response.status_code}")
                    return _body(response, max_bytes), response.headers.get("content-type", "")
            except httpx.HTTPError as exc:
                raise FetchFailed(f"cannot fetch {current}: {exc}") from exc
    raise FetchFailed(f"{url}: more than {MAX_REDIRECTS} redirects")


def _body(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise MediaTooLarge(f"remote file is {declared} bytes, over the limit of {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise MediaTooLarge(f"remote file is over the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
