"""Throwaway local infrastructure for development, tests and ``make run``.

A real Apache Kafka broker (KRaft, jars resolved by Maven) and a real PostgreSQL
cluster (Debian's ``postgresql`` package), each started on a free loopback port
in a fresh directory and stopped cleanly. Production deployments point
``AUDITLENS_KAFKA_BOOTSTRAP_SERVERS`` and ``AUDITLENS_STORE_URL`` at real
clusters instead.
"""

import socket


def free_port() -> int:
    """Ask the kernel for a currently unused loopback TCP port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
