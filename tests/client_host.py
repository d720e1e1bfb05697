"""A client's own web host, for Client ID Metadata Documents: HTTPS on 127.0.0.1 under a test CA
that the live authorization server trusts (SSL_CERT_FILE), serving what each test sets per path."""

from __future__ import annotations

import datetime
import ipaddress
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The names the server's certificate is good for: the allow-listed one and the plain address.
ALLOWED_HOST = "localhost"
ADDRESS = "127.0.0.1"


@dataclass(frozen=True)
class TestCA:
    """A CA certificate (what SSL_CERT_FILE names) and a server certificate and key it signed."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_test_ca(directory: Path) -> TestCA:
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Drawbridge test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(ALLOWED_HOST), x509.IPAddress(ipaddress.ip_address(ADDRESS))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ALLOWED_HOST)])).issuer_name(ca_name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    found = TestCA(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    found.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    found.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    found.key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return found


@dataclass
class Answer:
    """What the host answers on one path."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    delay_seconds: float = 0.0
    # False: no Content-Length; the body ends when the connection closes (HTTP/1.0).
    declare_length: bool = True
    # Above 0: the status line and headers are sent a byte at a time, this long apart (slow loris).
    trickle_seconds: float = 0.0


class ClientHost:
    """The HTTPS server: `serve` an answer on a path, `url` names it (on the allowed host, or on
    the plain address), `hits` counts requests per path, `stop` takes the host down."""

    def __init__(self, ca: TestCA) -> None:
        self.answers: dict[str, Answer] = {}
        self.hits: dict[str, int] = {}
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                host.hits[self.path] = host.hits.get(self.path, 0) + 1
                answer = host.answers.get(self.path, Answer(b"not found", 404, {"Content-Type": "text/plain"}))
                time.sleep(answer.delay_seconds)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if answer.declare_length:
                    self.send_header("Content-Length", str(len(answer.body)))
                if answer.trickle_seconds:
                    head, self._headers_buffer = b"".join(self._headers_buffer) + b"\r\n", []
                    try:
                        for byte in head:
                            self.wfile.write(bytes([byte]))
                            time.sleep(answer.trickle_seconds)
                    except OSError:  # the fetcher gave up: as it should
                        return
                else:
                    self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(ca.cert_file, ca.key_file)
        self.server = ThreadingHTTPServer((ADDRESS, 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = ALLOWED_HOST) -> str:
        return f"https://{host}:{self.port}{path}"

    def new_path(self, name: str = "client.json") -> str:
        """A path no other test used, so its client is new to the authorization server."""
        return f"/{secrets.token_hex(6)}/{name}"

    def serve(self, path: str, answer: Answer) -> None:
        self.answers[path] = answer

    def serve_document(self, path: str, document: dict[str, Any], **headers: str) -> None:
        self.serve(path, Answer(json.dumps(document).encode(), headers={"Content-Type": "application/json", **headers}))

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
