"""The scorer's consumer-group membership, where kafka-python 3.0's public API falls short.

Three needs: a member identity that survives reconnects, finishing a join the
client would leave half done, and knowing when the group coordinator last answered
(a broker that is gone stops answering heartbeats; the client only retries quietly).

A member identity that survives reconnects:

Each scorer process joins as a *static* member (KIP-345, ``group.instance.id``)
under an id of its own. When the broker restarts, or the scorer replaces its
consumer after a failure, the coordinator may no longer know the member id; a
dynamic member then rejoins as a new one and the coordinator waits for the old
one's session to expire (10 s) before it hands out partitions again. A static
member rejoining under the same instance id takes its place at once. A static
member does not leave the group when its consumer closes, so a scorer that stops
for good removes itself (:func:`leave_group`): its partitions move to the others
at once, as a dynamic member's would. A scorer that crashes is dropped after the
session timeout either way.

Finishing a join:

kafka-python sends JoinGroup and SyncGroup in a task on its I/O thread; a
``poll()`` whose timeout ends first leaves the task running and awaits it at the
next poll, but only while ``need_rejoin()`` still says so. When the rejoin was
caused by a metadata change (a topic that appeared after the first join, or new
partitions), the group leader's assignment step records the new metadata, so
``need_rejoin()`` turns False while SyncGroup is still in flight. No later poll
awaits the task, its assignment is never applied, and the consumer stays with
its old partitions (none, at start-up) for good: the scorer then idles with a
backlog in front of it, and nothing in the client reports a fault.

Scorers poll with short timeouts (a batch lingers only milliseconds for more
records), so they meet this. :func:`resume_stranded_join` notices the state after
a poll and asks the coordinator to rejoin: the next poll awaits the task, or
joins again if it already ended, and the assignment lands.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import MemberToRemove
from kafka.errors import KafkaError

log = logging.getLogger(__name__)


def new_instance_id() -> str:
    """Unique per process (host, pid, random): two scorers never share one, even in
    containers that all run as pid 1."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def leave_group(bootstrap_servers: str, group_id: str, instance_id: str, timeout_s: float) -> None:
    """Remove this static member from the group now; failures are logged, not raised
    (the coordinator drops the member after its session timeout anyway)."""
    timeout_ms = int(timeout_s * 1000)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap_servers,
            client_id="auditlens-scorer-leave",
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
        )
    except KafkaError as exc:
        log.warning("could not leave consumer group %s: %s", group_id, exc)
        return
    try:
        admin.remove_group_members(group_id, [MemberToRemove(group_instance_id=instance_id)])
        log.info("left consumer group %s as %s", group_id, instance_id)
    except KafkaError as exc:
        log.warning("could not leave consumer group %s: %s", group_id, exc)
    finally:
        admin.close()


def resume_stranded_join(consumer: KafkaConsumer) -> bool:
    """Request a rejoin if a join is in flight that no later poll would await.

    Returns whether it did. Reads the client's private coordinator state: if a
    future kafka-python renames it, this does nothing rather than fail.
    """
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None or getattr(coordinator, "_join_task", None) is None:
        return False
    if coordinator.need_rejoin():
        return False  # the client awaits the join itself at its next poll
    log.info("a group join was left unfinished by a poll's timeout; rejoining")
    coordinator.request_rejoin()
    return True


def seconds_since_coordinator_answered(
    consumer: KafkaConsumer, joined_at: float | None
) -> float | None:
    """Seconds since the group coordinator last answered a heartbeat, or since the
    join at ``joined_at`` (monotonic) if none was answered since: heartbeats start one
    interval after a join. None before any join, or if the client's internals moved."""
    heartbeat = getattr(getattr(consumer, "_coordinator", None), "heartbeat", None)
    received = getattr(heartbeat, "last_receive", None)
    if joined_at is None or not isinstance(received, float):
        return None
    return max(0.0, time.monotonic() - max(received, joined_at))
