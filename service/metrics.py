"""Prometheus metrics, all prefixed ``auditlens_``, served at ``GET /metrics``."""

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_CONSUMED = Counter(
    "auditlens_messages_consumed_total", "Kafka messages taken from the input topics."
)
EVENTS_CONSUMED = Counter(
    "auditlens_events_consumed_total", "Normalized events scored, by source.", ["source"]
)
DEAD_LETTERS = Counter(
    "auditlens_dead_letters_total", "Messages sent to the dead-letter topic, by reason.", ["reason"]
)
ANOMALIES_STORED = Counter(
    "auditlens_anomalies_stored_total", "Flagged events newly written to the store."
)
BATCH_SIZE = Histogram(
    "auditlens_batch_messages",
    "Messages per micro-batch.",
    buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000, 10000),
)
BATCH_SECONDS = Histogram(
    "auditlens_batch_processing_seconds",
    "Time from a full batch to its committed offsets.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
MODEL_VERSION = Gauge("auditlens_model_version", "Model version the scorer is using.", ["model"])
