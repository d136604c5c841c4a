"""Sending one webhook without becoming a tool against our own network (SSRF).

The host is resolved once per attempt, every resolved address is checked (webapp.domain.webhooks.address_refusal),
and the connection goes to that checked address, with the host name kept for the Host header, TLS SNI and the
certificate check: a DNS answer that changes between the check and the connection cannot redirect us
(no rebinding window). No redirect is followed, timeouts are short, and only the first bytes of an answer are read.

Connections are pooled per (scheme, address, port, host) and kept alive between deliveries; the pools are
thread-safe, so the delivery threads share them. Runs on worker threads: no database, no Flask context.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError

from webapp.domain.webhooks import AttemptOutcome, address_refusal


@dataclass(frozen=True)
class Limits:
    timeout: float
    connect_timeout: float
    response_bytes: int
    allow_loopback: bool
    per_host: int


class Refused(Exception):
    """The URL resolves to an address we must not call."""


_pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()
MAX_POOLS = 2000


def _resolve(host: str, port: int, allow_loopback: bool) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"cannot resolve {host}: {exc}") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for address in addresses:  # one bad address refuses the host: we must not pick among a rebinding set
        refusal = address_refusal(address, allow_loopback=allow_loopback)
        if refusal:
            raise Refused(f"{host} resolves to {address}, {refusal}")
    return str(addresses[0])


def _pool(scheme: str, address: str, port: int, host: str, limits: Limits) -> urllib3.HTTPConnectionPool:
    key = (scheme, address, port, host)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            if len(_pools) >= MAX_POOLS:
                for stale in _pools.values():
                    stale.close()
                _pools.clear()
            if scheme == "https":
                pool = urllib3.HTTPSConnectionPool(address, port, server_hostname=host, assert_hostname=host,
                                                   cert_reqs="CERT_REQUIRED", maxsize=limits.per_host, block=False,
                                                   retries=False)
            else:
                pool = urllib3.HTTPConnectionPool(address, port, maxsize=limits.per_host, block=False, retries=False)
            _pools[key] = pool
        return pool


def post(url: str, body: bytes, headers: dict[str, str], limits: Limits) -> AttemptOutcome:
    """POST `body` to `url` once. Never raises: an address refused, a timeout or a reset is an outcome too."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address = _resolve(host, port, limits.allow_loopback)
    except Refused as refused:
        return AttemptOutcome(None, elapsed(), error=f"refused: {refused}"[:500])
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = parts.netloc  # as written in the URL (no credentials: parse_url refused them)
    try:
        response = _pool(parts.scheme, address, port, host, limits).urlopen(
            "POST", target, body=body, headers={**headers, "Host": host_header, "Accept-Encoding": "identity"},
            redirect=False, retries=False, preload_content=False, assert_same_host=False,
            timeout=urllib3.Timeout(connect=limits.connect_timeout, read=limits.timeout, total=limits.timeout))
    except (HTTPError, OSError) as exc:
        return AttemptOutcome(None, elapsed(), error=f"{type(exc).__name__}: {exc}"[:500])
    try:
        excerpt = response.read(limits.response_bytes, decode_content=False)
        if response.read(1, decode_content=False):  # more than we keep: drop the connection rather than read on
            response.close()
    except (HTTPError, OSError) as exc:
        response.close()
        return AttemptOutcome(response.status, elapsed(), error=f"{type(exc).__name__}: {exc}"[:500])
    finally:
        response.release_conn()
    return AttemptOutcome(response.status, elapsed(), excerpt.decode("utf-8", "replace"))
