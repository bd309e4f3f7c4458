"""Which webhook URLs the service will call: http(s) to public addresses only.

A webhook URL is chosen by an API caller and fetched by the server, the shape of
a server-side request forgery: without a check, an admin key (or a stolen one)
could make auditlens POST into the cloud metadata service or an internal admin
port. So the host is resolved and every address it resolves to must be public
(not loopback, private, link-local, shared, multicast, reserved or unspecified,
IPv4-mapped IPv6 included). The check runs when an endpoint is created and again
before every delivery, and the delivery connects to the address that was
checked (:func:`pinned_request`), so a DNS answer that changes in between
cannot redirect it. ``AUDITLENS_WEBHOOK_ALLOW_PRIVATE`` lifts the address rule
for receivers inside a private network.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from service.webhooks.exceptions import UnsafeURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast.

    >>> [is_public(ipaddress.ip_address(a)) for a in
    ...  ("8.8.8.8", "127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:10.0.0.1")]
    [True, False, False, False, False, False]
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class Target:
    """A checked URL: its host and port, and the address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str


def check_url(url: str, allow_private: bool, resolver: Resolver = resolve) -> Target:
    """Validate and resolve a webhook URL; UnsafeURLError says why it is refused.

    >>> check_url("http://127.0.0.1:8080/hook", allow_private=False)
    Traceback (most recent call last):
    ...
    service.webhooks.exceptions.UnsafeURLError: webhook URL host 127.0.0.1 resolves to \
127.0.0.1, which is not a public address (set AUDITLENS_WEBHOOK_ALLOW_PRIVATE=true \
to allow private receivers)
    >>> check_url("ftp://example.com/", allow_private=True)
    Traceback (most recent call last):
    ...
    service.webhooks.exceptions.UnsafeURLError: webhook URL scheme must be http or https \
(or kafka, for a topic), not ftp
    >>> check_url("http://127.0.0.1:8080/hook", allow_private=True).address
    '127.0.0.1'
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURLError(f"webhook URL is malformed: {exc}", reason="no_host") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURLError(
            "webhook URL scheme must be http or https (or kafka, for a topic), "
            f"not {scheme or 'none'}",
            reason="unsupported_scheme",
        )
    if not parts.hostname:
        raise UnsafeURLError("webhook URL has no host", reason="no_host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURLError(
            "webhook URL must not carry credentials; deliveries are authenticated by signature",
            reason="credentials_in_url",
        )
    host = parts.hostname
    port = port or (443 if scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolver(host, port)]
    except (OSError, UnicodeError, ValueError) as exc:
        raise UnsafeURLError(
            f"webhook URL host {host} does not resolve: {exc}", reason="unresolvable"
        ) from exc
    if not addresses:
        raise UnsafeURLError(f"webhook URL host {host} does not resolve", reason="unresolvable")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise UnsafeURLError(
                    f"webhook URL host {host} resolves to {address}, which is not a public "
                    "address (set AUDITLENS_WEBHOOK_ALLOW_PRIVATE=true to allow private "
                    "receivers)",
                    reason="private_address",
                )
    return Target(url, scheme, host, port, str(addresses[0]))


def pinned_request(target: Target) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``(url, headers, extensions)`` that connect to the checked address.

    The URL names the address, ``Host`` keeps the original name for the
    receiver's routing, and for https the TLS server name (SNI and certificate
    check) stays the original host.

    >>> url, headers, ext = pinned_request(
    ...     Target("https://hooks.example.com/x?y=1", "https", "hooks.example.com", 443,
    ...            "93.184.215.14"))
    >>> url, headers, ext
    ('https://93.184.215.14/x?y=1', {'Host': 'hooks.example.com'}, \
{'sni_hostname': 'hooks.example.com'})
    """
    parts = urlsplit(target.url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    default_port = 443 if target.scheme == "https" else 80
    netloc = address if target.port == default_port else f"{address}:{target.port}"
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host:  # an IPv6 literal keeps its brackets in Host
        host_header = host_header.replace(target.host, f"[{target.host}]", 1)
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    extensions: dict[str, Any] = {}
    if target.scheme == "https":
        extensions["sni_hostname"] = target.host
    return url, {"Host": host_header}, extensions
