"""Finish a consumer-group join that kafka-python 3.0 would leave half done.

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

from kafka import KafkaConsumer

log = logging.getLogger(__name__)


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
