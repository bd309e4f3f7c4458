"""The store's operations, one mixin per resource; callers never write SQL.

``Store`` is what every process opens: the streaming scorer
(:meth:`~service.store.anomalies.AnomalyStore.insert_anomalies`, and partition
state in :mod:`service.store.partition_states`), the API, the
webhook dispatcher and the CLI.
"""

from __future__ import annotations

from service.store.anomalies import AnomalyFilter, AnomalyStore
from service.store.browse import BrowseStore
from service.store.console_sessions import ConsoleSessionStore
from service.store.drift import DriftStore
from service.store.keys import ROLE_RANK, ROLES, KeyStore, Principal
from service.store.optimizer import OptimizerStore
from service.store.outbox import OutboxStore
from service.store.partition_states import PartitionStateStore
from service.store.shadow import ShadowStore
from service.store.suppressions import SuppressionStore
from service.store.triage import TriageStore
from service.store.webhooks import WebhookStore

__all__ = ["ROLES", "ROLE_RANK", "AnomalyFilter", "Principal", "Store"]


class Store(
    AnomalyStore,
    TriageStore,
    SuppressionStore,
    KeyStore,
    WebhookStore,
    OutboxStore,
    PartitionStateStore,
    BrowseStore,
    ConsoleSessionStore,
    DriftStore,
    ShadowStore,
    OptimizerStore,
):
    """One engine and its session factory; safe to share between threads."""
