"""Session fixtures: the real Kafka broker and PostgreSQL, started by the harness.

``AUDITLENS_KAFKA_BOOTSTRAP_SERVERS`` (existing cluster) and
``AUDITLENS_TEST_POSTGRES_URL`` (existing server) skip the local start-up.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.localstack.kafka import KafkaBroker
from service.localstack.postgres import PostgresCluster

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    existing = os.environ.get("AUDITLENS_KAFKA_BOOTSTRAP_SERVERS")
    if existing:
        yield existing
        return
    with KafkaBroker(workdir=tmp_path_factory.mktemp("kafka")) as broker:
        yield broker.bootstrap_servers


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    existing = os.environ.get("AUDITLENS_TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    with PostgresCluster() as cluster:
        yield cluster.url


@pytest.fixture
def unique_name() -> str:
    """A fresh topic / group / database suffix per test, so tests never share state."""
    return uuid.uuid4().hex[:10]
