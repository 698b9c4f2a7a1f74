"""Outbound-request guard: a flow may name any URL, so every address it reaches is checked first.

A flow author controls model base URLs and the URLs of the URL and API Request components. Without
this guard a flow could read the cloud metadata service (and the Lambda's credentials with it) or
probe the private network. Some addresses are refused always; loopback and private ranges only when
the deployment does not allow them (FLOWLESS_ALLOW_PRIVATE_NETWORK, passed in as `allow_private`).

Out of scope: DNS rebinding. The host is resolved here and again when the connection is made, so a
name that answers differently the second time passes. Closing that gap needs connecting to the
checked address itself, which the HTTP client does not offer without a custom transport.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # httpx is imported only by the code that actually sends requests
    import httpx

__all__ = ["BlockedAddressError", "blocked_reason", "check_url", "guarded_async_client"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_ALLOWED_SCHEMES = frozenset({"http", "https"})

# Named outright: fd00:ec2::254 sits inside the private fc00::/7, yet must stay blocked when private
# networks are allowed. The IPv4 ones are link-local already; listing them keeps the reason precise.
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2")
)

# 0.0.0.0/8 means "this host" to Linux: a connection to 0.0.0.0 lands on the machine itself.
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")

# NAT64's well-known prefix carries an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# The standard library's is_private differs between Python versions and leaves out CGNAT, so the
# ranges that matter are spelled out; is_private still catches the rest of the special-use blocks.
_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7", "fec0::/10")
)


class BlockedAddressError(ValueError):
    """A URL a flow may not reach; the message names the host and the reason."""


def _always_blocked_reason(address: IPAddress) -> str | None:
    if address in _METADATA_ADDRESSES:
        return "is a cloud metadata address"
    if address.is_unspecified or address in _THIS_NETWORK:
        return "is an unspecified address"
    if address.is_link_local:
        return "is link-local"
    if address.is_multicast:
        return "is multicast"
    if address.is_reserved:
        return "is reserved"
    return None


def _private_reason(address: IPAddress) -> str | None:
    if any(address in network for network in _PRIVATE_NETWORKS if network.version == address.version):
        return "is on a private network"
    if address.is_private:
        return "is a private or special-use address"
    return None


def blocked_reason(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why this one address may not be reached, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:a.b.c.d and 64:ff9b::a.b.c.d reach the IPv4 host a.b.c.d; judge them as that host.
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address in _NAT64:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.is_loopback:
        # Checked first: Python also counts ::1 as reserved, which would block it always.
        return None if allow_private else "is loopback"
    reason = _always_blocked_reason(address)
    if reason is None and not allow_private:
        reason = _private_reason(address)
    return reason


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        # Fail closed: an address that cannot be checked is not connected to.
        raise BlockedAddressError(f"host {host!r} cannot be resolved: {exc}") from exc
    addresses = []
    for *_, sockaddr in infos:
        # Drop an IPv6 scope ("fe80::1%eth0") before parsing; the address alone decides.
        addresses.append(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
    return addresses


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise BlockedAddressError unless `url` is http(s) and every address its host resolves to is allowed.

    Resolution goes through getaddrinfo, the same call the connection uses, so decimal, hex and octal
    spellings of an address ("http://2852039166/") are judged as the address they become.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        # The URL itself is not repeated: it may carry credentials or keys in its query.
        raise BlockedAddressError(f"URL is malformed: {exc}") from exc
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _ALLOWED_SCHEMES:
        raise BlockedAddressError(f"URL scheme {scheme!r} is not allowed (host {host!r}); use http or https")
    if not host:
        raise BlockedAddressError("URL has no host")
    for address in _resolve(host, port or (443 if scheme == "https" else 80)):
        reason = blocked_reason(address, allow_private=allow_private)
        if reason is not None:
            raise BlockedAddressError(f"host {host!r} resolves to {address}, which {reason}")


def guarded_async_client(allow_private: bool, **kwargs: Any) -> httpx.AsyncClient:
    """An httpx.AsyncClient that checks every request it sends, each redirect hop included.

    The check runs as a request event hook, which httpx calls before each request goes out, also
    for the requests it makes itself while following redirects. Extra keyword arguments go to
    httpx.AsyncClient; request hooks passed in run after the guard.
    """
    import asyncio  # here, not at the top: check_url alone should import in no time

    import httpx

    async def guard(request: httpx.Request) -> None:
        # Resolution blocks, so it runs off the event loop.
        await asyncio.to_thread(check_url, str(request.url), allow_private=allow_private)

    hooks = dict(kwargs.pop("event_hooks", None) or {})
    hooks["request"] = [guard, *hooks.get("request", [])]
    return httpx.AsyncClient(event_hooks=hooks, **kwargs)
