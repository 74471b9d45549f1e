"""HTTPS for the page: a generated self-signed certificate that a client can verify."""

import asyncio
import ssl
from pathlib import Path

from bridge.web import tls
from bridge.web.http import HttpServer
from tests.unit.bridge.asyncio_run import run


async def _health() -> dict[str, bool]:
    return {"ok": True}


def test_self_signed_certificate_is_made_once_and_serves_https(tmp_path: Path) -> None:
    cert, key = tls.self_signed(tmp_path / "tls", "127.0.0.1")
    assert cert.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert key.stat().st_mode & 0o077 == 0  # the private key is private
    again = tls.self_signed(tmp_path / "tls", "127.0.0.1")
    assert again == (cert, key) and cert.read_bytes() == again[0].read_bytes()

    async def main() -> None:
        server = HttpServer(
            "127.0.0.1", 0, _health, dict, ssl_context=tls.server_context(cert, key)
        )
        await server.start()
        try:
            assert server.scheme == "https"
            client = ssl.create_default_context(cafile=str(cert))  # verifies name and chain
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", server.bound_port, ssl=client, server_hostname="127.0.0.1"
            )
            writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            response = await reader.read()
            writer.close()
            assert response.startswith(b"HTTP/1.1 200 OK")
            assert b"Start call" in response
        finally:
            await server.close()

    run(main())
