"""HTTPS for the page: an admin's certificate, or a self-signed one we generate.

Why: browsers give ``getUserMedia`` (the microphone) only to a *secure
context*: https, or http on localhost. A page opened from another machine of
the LAN at ``http://10.0.0.5:8080`` gets no microphone. A self-signed
certificate is enough for a trial (the browser asks once to accept it); a
real deployment gives its own ``https_cert``/``https_key``.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

log = logging.getLogger(__name__)


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def self_signed(folder: Path, host: str, days: int = 365) -> tuple[Path, Path]:
    """``folder/selfsigned.pem`` and ``.key`` for ``host``, made once and reused until expiry."""
    cert_path, key_path = folder / "selfsigned.pem", folder / "selfsigned.key"
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if cert.not_valid_after_utc > datetime.datetime.now(datetime.UTC) + datetime.timedelta(
            days=1
        ):
            return cert_path, key_path
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.DNSName(socket.gethostname())]
    for literal in {host, "127.0.0.1"}:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(literal)))
        except ValueError:
            if literal:
                names.append(x509.DNSName(literal))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "voicebot (self-signed)")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    log.info("https: generated a self-signed certificate at %s", cert_path)
    return cert_path, key_path
