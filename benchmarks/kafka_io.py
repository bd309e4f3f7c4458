"""Kafka plumbing for the benchmark: the broker, topics, offsets and a fast producer.

The producer matters: kafka-python checksums every record batch with a pure-Python
CRC32C unless the optional ``crc32c`` package is installed, which caps it near
ten thousand messages a second on one core — slower than the scorer it would
feed. :func:`produce` therefore drives the broker's own Java client (the jars the
local broker already runs on, launched in source-file mode), which keeps up with
any rate the benchmark asks for at a few percent of a core, and records when it
sent each message. Where those jars or a JDK are missing (an external cluster),
it falls back to kafka-python.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import OffsetSpec
from kafka.partitioner.default import murmur2

from service.localstack.kafka import LOG_CONFIG, KafkaBroker, cache_dir, kafka_version

BOOTSTRAP_ENV = "AUDITLENS_KAFKA_BOOTSTRAP_SERVERS"

_JAVA_PRODUCER = """
import java.io.*;
import java.nio.file.*;
import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Sends length-prefixed records at a fixed rate (0 = as fast as possible). */
public class BenchProducer {
    public static void main(String[] args) throws Exception {
        String servers = args[0], topic = args[1];
        double rate = Double.parseDouble(args[3]);
        Properties props = new Properties();
        props.put("bootstrap.servers", servers);
        props.put("acks", "1");
        props.put("enable.idempotence", "false");
        props.put("linger.ms", args[5]);
        props.put("batch.size", String.valueOf(512 * 1024));
        props.put("max.request.size", String.valueOf(2 * 1024 * 1024));
        props.put("buffer.memory", String.valueOf(256L * 1024 * 1024));
        props.put("key.serializer", ByteArraySerializer.class.getName());
        props.put("value.serializer", ByteArraySerializer.class.getName());
        try (DataInputStream in = new DataInputStream(
                 new BufferedInputStream(Files.newInputStream(Paths.get(args[2])), 1 << 20));
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            int count = in.readInt();
            long[] sent = new long[count];
            Instant start = Instant.now();
            long epochMicros = start.getEpochSecond() * 1_000_000L + start.getNano() / 1000;
            long nano0 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                int partition = in.readInt();
                int keyLength = in.readInt();
                byte[] key = null;
                if (keyLength >= 0) { key = new byte[keyLength]; in.readFully(key); }
                byte[] value = new byte[in.readInt()];
                in.readFully(value);
                if (rate > 0) {
                    long due = nano0 + (long) (i * 1e9 / rate);
                    long wait;
                    while ((wait = due - System.nanoTime()) > 0) LockSupport.parkNanos(wait);
                }
                sent[i] = epochMicros + (System.nanoTime() - nano0) / 1000;
                producer.send(new ProducerRecord<>(topic, partition, key, value));
            }
            producer.flush();
            double seconds = (System.nanoTime() - nano0) / 1e9;
            OutputStream file = Files.newOutputStream(Paths.get(args[4]));
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(file))) {
                for (long t : sent) out.writeLong(t);
            }
            System.out.println(count + " " + seconds);
        }
    }
}
"""


@dataclass(frozen=True)
class Message:
    """One pre-encoded message and the partition its key maps to."""

    value: bytes
    key: bytes | None
    partition: int


@dataclass(frozen=True)
class ProduceResult:
    sent: int
    seconds: float
    send_times: npt.NDArray[np.float64]  # epoch seconds, one per message, in input order
    producer: str

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def partition_for(key: bytes | None, partitions: int, position: int) -> int:
    """kafka-python's default partitioner: murmur2 of the key; round robin without one.

    >>> partition_for(b"alice", 4, 0) == partition_for(b"alice", 4, 99)
    True
    >>> [partition_for(None, 4, i) for i in range(5)]
    [0, 1, 2, 3, 0]
    """
    if key is None:
        return position % partitions
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


def keyed(values: Sequence[bytes], keys: Sequence[bytes | None], partitions: int) -> list[Message]:
    return [
        Message(value, key, partition_for(key, partitions, i))
        for i, (value, key) in enumerate(zip(values, keys, strict=True))
    ]


@contextmanager
def broker(workdir: Path) -> Iterator[tuple[str, str]]:
    """``(bootstrap servers, description)``: the configured cluster, or a fresh local broker."""
    external = os.environ.get(BOOTSTRAP_ENV, "").strip()
    if external:
        yield external, f"external cluster {external}"
        return
    local = KafkaBroker(workdir=workdir, heap="1g")
    local.start()
    try:
        yield local.bootstrap_servers, f"local Apache Kafka {kafka_version()} (KRaft, 1 node)"
    finally:
        local.stop()


class Cluster:
    """Admin operations the benchmark needs, over one admin client."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)

    def close(self) -> None:
        self.admin.close()

    def create_topic(self, name: str, partitions: int) -> None:
        self.admin.create_topics(
            {name: {"num_partitions": partitions, "replication_factor": 1}},
            wait_for_metadata=True,
        )

    def end_offsets(self, topic: str, partitions: int) -> dict[int, int]:
        specs = {TopicPartition(topic, p): OffsetSpec.LATEST for p in range(partitions)}
        found = self.admin.list_partition_offsets(specs)
        return {tp.partition: int(found[tp].offset) for tp in specs}

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """The group's committed offset per partition of ``topic`` (absent: never committed)."""
        try:
            offsets = self.admin.list_group_offsets({group: None}).get(group, {})
        except Exception:  # the group does not exist yet
            return {}
        return {
            tp.partition: int(meta.offset)
            for tp, meta in offsets.items()
            if tp.topic == topic and meta.offset >= 0
        }

    def assignment(self, group: str, topic: str) -> tuple[int, set[int]]:
        """``(members, partitions of topic assigned to them)`` of a ``Stable`` group.

        ``(0, set())`` while the group rebalances or does not exist yet.
        """
        try:
            described = self.admin.describe_groups([group]).get(group, {})
        except Exception:
            return 0, set()
        if described.get("group_state") != "Stable":
            return 0, set()
        members = described.get("members") or []
        assigned: set[int] = set()
        for member in members:
            held = (member.get("member_assignment") or {}).get("assigned_partitions") or []
            for entry in held:
                if entry.get("topic") == topic:
                    assigned.update(int(p) for p in entry.get("partitions", []))
        return len(members), assigned


def _java_ready() -> Path | None:
    """The broker's client jars, when they and a JDK are present."""
    libs = cache_dir() / "libs"
    if shutil.which("java") is None or not (cache_dir() / ".complete").exists():
        return None
    return libs


def _write_records(path: Path, messages: Sequence[Message]) -> None:
    header = struct.Struct(">ii")
    with path.open("wb") as out:
        out.write(struct.pack(">i", len(messages)))
        for m in messages:
            out.write(header.pack(m.partition, -1 if m.key is None else len(m.key)))
            if m.key is not None:
                out.write(m.key)
            out.write(struct.pack(">i", len(m.value)))
            out.write(m.value)


def produce(
    bootstrap: str,
    topic: str,
    messages: Sequence[Message],
    rate: float = 0.0,
    linger_ms: int = 20,
    timeout_s: float = 1800.0,
) -> ProduceResult:
    """Send ``messages`` in order, ``rate`` per second (0: as fast as possible)."""
    if not messages:
        return ProduceResult(0, 0.0, np.empty(0), "none")
    libs = _java_ready()
    if libs is None:
        return _produce_python(bootstrap, topic, messages, rate, linger_ms)
    with tempfile.TemporaryDirectory(prefix="auditlens-produce-") as tmp:
        folder = Path(tmp)
        (folder / "BenchProducer.java").write_text(_JAVA_PRODUCER)
        records, times = folder / "records.bin", folder / "sent.bin"
        _write_records(records, messages)
        done = subprocess.run(
            [
                "java",
                "-Xmx1g",
                f"-Dlog4j2.configurationFile={LOG_CONFIG}",
                "-cp",
                f"{libs}/*",
                str(folder / "BenchProducer.java"),
                bootstrap,
                topic,
                str(records),
                repr(float(rate)),
                str(times),
                str(linger_ms),
            ],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the Java producer failed:\n{done.stderr[-3000:]}")
        sent, seconds = done.stdout.split()[-2:]
        send_times = np.fromfile(times, dtype=">i8").astype(np.float64) / 1e6
    return ProduceResult(int(sent), float(seconds), send_times, "Java kafka-clients")


def _produce_python(
    bootstrap: str, topic: str, messages: Sequence[Message], rate: float, linger_ms: int
) -> ProduceResult:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks=1,
        linger_ms=linger_ms,
        batch_size=512 * 1024,
        max_request_size=2 * 1024 * 1024,
    )
    send_times = np.empty(len(messages))
    started = time.perf_counter()
    epoch_offset = time.time() - started  # perf_counter -> epoch seconds
    try:
        for i, m in enumerate(messages):
            if rate > 0:
                wait = started + i / rate - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            now = time.perf_counter()
            send_times[i] = epoch_offset + now
            producer.send(topic, value=m.value, key=m.key, partition=m.partition)
        producer.flush()
    finally:
        producer.close(timeout=30)
    return ProduceResult(len(messages), time.perf_counter() - started, send_times, "kafka-python")


def bare_consume(
    bootstrap: str, topic: str, partitions: int, total: int, check_crcs: bool, timeout_s: float
) -> tuple[int, float]:
    """Read ``total`` messages of ``topic`` and nothing else: ``(read, seconds)``.

    Configured like the scorer's consumer (same batch size); ``check_crcs`` is
    kafka-python's default (True), False shows what the checksum costs.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        max_poll_records=5000,
        check_crcs=check_crcs,
    )
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning()
        read = 0
        started = time.perf_counter()
        deadline = started + timeout_s
        while read < total and time.perf_counter() < deadline:
            for records in consumer.poll(timeout_ms=1000, max_records=5000).values():
                read += len(records)
        return read, time.perf_counter() - started
    finally:
        consumer.close()
