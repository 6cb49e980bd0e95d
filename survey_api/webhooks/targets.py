"""Where webhooks may be sent: the public internet only, checked when a webhook is registered
and again on every connection (a name can resolve to another address later).

Refused: loopback, private, link-local (169.254.169.254, the cloud metadata service), shared,
reserved, multicast and unspecified addresses, IPv6 forms of them; addresses written in the
forms only a parser's leniency reads (2130706433, 0x7f.1, 0177.0.0.1, 127.1); credentials in
the URL. WEBHOOK_ALLOW_PRIVATE=true lifts the address checks for development and tests.

At connect time the name is resolved once, every address is checked, and the socket connects
to a checked address itself: no second lookup stands between the check and the connection.
TLS still verifies the certificate against the name (SNI and Host stay the URL's).
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError, NewConnectionError


class BlockedAddress(OSError):
    """The target resolves to an address webhooks may not reach."""


def address_allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(ip, "ipv4_mapped", None) or getattr(ip, "sixtofour", None)
    if mapped is not None:
        return address_allowed(mapped)
    return ip.is_global and not ip.is_multicast


def _literal_ip(host: str):
    """The host as an IP address if it is written as one (canonical forms only)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _lenient_ip(host: str) -> bool:
    """inet_aton reads 2130706433, 0x7f000001, 0177.0.0.1 and 127.1 as 127.0.0.1."""
    try:
        socket.inet_aton(host)
        return True
    except OSError:
        return False


def _resolve(host: str, port: int) -> list:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def url_problem(url: str, allow_private: bool) -> str | None:
    """Why a webhook may not target this URL, or None. Names that do not resolve now are
    accepted (they may later); every connection is checked again anyway."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "Use an http or https URL."
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "Credentials in the URL are not allowed; authenticate with the signature."
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "The port is not valid."
    ip = _literal_ip(host)
    if ip is None and _lenient_ip(host):
        return "Write an address in its usual dotted form, or use a host name."
    if allow_private:
        return None
    if ip is not None:
        return None if address_allowed(ip) else "The address is not a public one."
    try:
        addresses = _resolve(host, port)
    except (OSError, UnicodeError):
        return None
    if not all(address_allowed(a) for a in addresses):
        return "The host name resolves to an address that is not a public one."
    return None


class _CheckedConnection:
    allow_private = False

    def _new_conn(self):
        name = self._dns_host
        try:
            addresses = _resolve(name, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        if not self.allow_private and not all(address_allowed(a) for a in addresses):
            raise NewConnectionError(self, "address not allowed") from BlockedAddress(name)
        # Connect to the address just checked, not to the name (which could resolve anew);
        # urllib3 still names the host for TLS (SNI, certificate) and the Host header.
        self._dns_host = str(addresses[0])
        try:
            return super()._new_conn()
        finally:
            self._dns_host = name


@lru_cache(maxsize=2)
def _adapter_class(allow_private: bool) -> type[HTTPAdapter]:
    http = type("CheckedHTTPConnection", (_CheckedConnection, HTTPConnection),
                {"allow_private": allow_private})
    https = type("CheckedHTTPSConnection", (_CheckedConnection, HTTPSConnection),
                 {"allow_private": allow_private})
    pools = {"http": type("CheckedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
             "https": type("CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https})}

    class CheckedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

    return CheckedAdapter


def session(allow_private: bool) -> requests.Session:
    """A requests session whose every connection goes through the address check. Proxies
    from the environment are ignored: the check must see the real target."""
    s = requests.Session()
    s.trust_env = False
    adapter = _adapter_class(allow_private)()
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def generic_error(exc: BaseException) -> str:
    """What went wrong, in words that say nothing about the peer (no banner, no body)."""
    seen = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, BlockedAddress):
            return "address not allowed"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        stack += [current.__cause__, current.__context__, getattr(current, "reason", None),
                  *[a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]]
    if isinstance(exc, requests.Timeout):
        return "timeout"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return "request failed"
