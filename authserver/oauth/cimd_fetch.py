"""Fetching a client's metadata document (draft-ietf-oauth-client-id-metadata-document-01 sections 4,
6.5 and 6.6): one GET over verified TLS, never to a special-use address, within a time and a size.

Why httpcore rather than httpx: the address check has to be made on the address the connection goes
to. Checking a name's addresses first and letting the HTTP client resolve it again to connect leaves
a gap a DNS answer can change in (DNS rebinding: public when checked, 127.0.0.1 when connected).
httpcore takes a network backend that resolves and connects in one step, here checking each address
before connecting to exactly that address; httpx's transports take no backend. TLS is still checked
against the host name (httpcore sends it as SNI and verifies the certificate for it).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import time
import typing
from dataclasses import dataclass
from functools import cached_property

import gevent
import httpcore

logger = logging.getLogger(__name__)

# The draft's recommended maximum (section 6.6): a document is a few hundred bytes.
MAX_DOCUMENT_BYTES = 5 * 1024
USER_AGENT = b"Drawbridge (OAuth client metadata document fetch)"
# The NAT64 well-known prefix (RFC 6052): its addresses reach the IPv4 address they embed.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# A public host's IPv6 address is global unicast, in 2000::/3 (RFC 4291 section 2.4). Outside it lie
# blocks that some Pythons' ipaddress calls global (3.11.7 does): local-use NAT64 64:ff9b:1::/48 (RFC
# 8215, reaching the operator's own IPv4 network), the IPv4-compatible ::/96 and IPv4-translated
# ::ffff:0:0:0/96 forms, site-local fec0::/10 (RFC 3879), SRv6 5f00::/16 (RFC 9602).
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
# Within it, blocks IANA's special-purpose registry marks not global that such Pythons do not know:
# 6to4 (RFC 3056, deprecated by RFC 7526) and documentation (RFC 9637).
_NOT_GLOBAL_UNICAST = (ipaddress.IPv6Network("2002::/16"), ipaddress.IPv6Network("3fff::/20"))


class FetchError(Exception):
    """Why no document came back, as the rest of a sentence naming the document. `transient`: the
    host could not be reached (no address, no connection, too slow, the connection broken), so a
    copy kept from before may stand in for a while, as RFC 9111 section 4.2.4 lets a disconnected
    cache; anything else means the document as it is cannot be used. A host that answers is not
    disconnected, even with 429 or 5xx: that answer can be a stranger's doing (a host limiting this
    server's address after a stranger's requests here made it fetch many of its URLs)."""

    def __init__(self, reason: str, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r}, transient={self.transient})"


@dataclass(frozen=True)
class Fetched:
    """A document as served: its bytes, and its headers by lower-case name."""

    body: bytes
    headers: dict[str, str]


def special_use(address: str) -> str | None:
    """What kind of special-use address (RFC 6890) `address` is, as a phrase, or None for a public
    one. IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4 address they reach."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast or not ip.is_global:
        return "a special-use address"
    if isinstance(ip, ipaddress.IPv6Address) and (ip not in _GLOBAL_UNICAST or any(ip in block for block in _NOT_GLOBAL_UNICAST)):
        return "a special-use address"
    return None


class PublicAddressBackend(httpcore.SyncBackend):
    """Connects only to public addresses, unless the host is one the operator allowed
    (DRAWBRIDGE_CIMD_ALLOWED_HOSTS): every address the name resolves to is checked, and the
    connection is made to one of those very addresses, so no second lookup can differ."""

    def __init__(self, allowed_hosts: typing.Collection[str]) -> None:
        self.allowed_hosts = frozenset(allowed_hosts)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        failure: httpcore.ConnectError | None = None
        for address in self.addresses(host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as error:  # the next address may answer (localhost: ::1, then 127.0.0.1)
                failure = error
        raise failure or httpcore.ConnectError(f"{host} has no address")

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses of `host`, each of them public unless the host is allowed; else FetchError."""
        try:
            # As getaddrinfo encodes it: an empty label or one over 63 characters fails here, not in
            # gevent's resolver thread, which would print a traceback for it.
            host.encode("idna")
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise FetchError(f"could not be fetched: its host {host} could not be resolved", transient=True) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        if host not in self.allowed_hosts:
            for address in addresses:
                if kind := special_use(address):
                    logger.warning("client_document_address_refused", extra={"host": host, "address": address})
                    raise FetchError(
                        f"is on {kind} ({address}); this server fetches client metadata documents only from public addresses",
                        transient=False,
                    )
        return addresses


class DocumentFetcher:
    """Fetches documents for one app: a connection per fetch (documents are fetched rarely, each at
    most once per cache lifetime), TLS verified against the system's CAs (SSL_CERT_FILE or
    SSL_CERT_DIR name others, as OpenSSL reads them), redirects never followed (draft section 4)."""

    def __init__(self, allowed_hosts: typing.Collection[str], timeout_seconds: int) -> None:
        self.backend = PublicAddressBackend(allowed_hosts)
        self.timeout_seconds = timeout_seconds

    @cached_property
    def pool(self) -> httpcore.ConnectionPool:
        # Made at the first fetch, in the worker process (after gevent has patched ssl and socket).
        # No cap on connections (httpcore's default is 10): a fetch waiting for another's connection
        # would read as its own host being slow, so a stranger's slow hosts could make any host look
        # down and its old copy stand in. Each fetch is one request's, so requests bound them.
        return httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(),
            network_backend=self.backend,
            max_connections=None,
            max_keepalive_connections=0,
        )

    def fetch(self, host: str, port: int, target: str) -> Fetched:
        """GET https://host:port/target as a JSON document of at most MAX_DOCUMENT_BYTES, all of it
        within the time-out; FetchError says what went wrong."""
        seconds = self.timeout_seconds
        deadline = time.monotonic() + seconds
        url = httpcore.URL(scheme=b"https", host=host.encode("ascii"), port=port, target=target.encode("ascii"))
        headers = [(b"Accept", b"application/json"), (b"User-Agent", USER_AGENT)]
        timeouts = {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}
        try:
            # One bound on the whole fetch: httpcore's time-outs are per operation, so a host sending
            # its answer a byte at a time (slow loris) could hold it for as long as it liked. Under
            # gevent (the services' workers) the Timeout interrupts any wait: the name's lookup, the
            # connection, the TLS handshake, each read. Elsewhere (an app in a test's process) the
            # per-operation time-outs and the deadline below are what bounds it.
            with (
                gevent.Timeout(seconds, _too_slow(seconds)),
                self.pool.stream("GET", url, headers=headers, extensions={"timeout": timeouts}) as response,
            ):
                found = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in response.headers}
                _check_answer(response.status, found)
                body = bytearray()
                for chunk in response.iter_stream():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise FetchError(f"is larger than {MAX_DOCUMENT_BYTES} bytes, the most this server reads", transient=False)
                    if time.monotonic() > deadline:
                        raise _too_slow(seconds)
        except httpcore.TimeoutException:
            raise _too_slow(seconds) from None
        except httpcore.ConnectError as error:
            if any(isinstance(reason, ssl.SSLError) for reason in (error.__cause__, error.__context__, *error.args)):
                raise FetchError("could not be fetched: its host's TLS certificate could not be verified", transient=False) from None
            raise FetchError("could not be fetched: its host could not be reached", transient=True) from None
        except (httpcore.NetworkError, httpcore.RemoteProtocolError):
            raise FetchError("could not be fetched: the connection to its host failed", transient=True) from None
        return Fetched(body=bytes(body), headers=found)


def _too_slow(seconds: int) -> FetchError:
    return FetchError(f"could not be fetched: its host did not answer within {seconds} s", transient=True)


def _check_answer(status: int, headers: dict[str, str]) -> None:
    """Only a 200 is a document (draft section 4), and only JSON: application/json or a more specific
    application/...+json (section 4.1), of a declared size within MAX_DOCUMENT_BYTES."""
    if 300 <= status < 400:
        raise FetchError(f"could not be fetched: its host answered {status}, a redirect, which is not followed", transient=False)
    if status != 200:
        raise FetchError(f"could not be fetched: its host answered {status} instead of 200", transient=False)
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not (media_type.startswith("application/") and media_type.endswith("+json")):
        raise FetchError(f"is served as {media_type or 'no content type'}, not as application/json", transient=False)
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
        raise FetchError(f"is {declared} bytes long; the most this server reads is {MAX_DOCUMENT_BYTES}", transient=False)
