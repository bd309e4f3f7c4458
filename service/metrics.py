"""Prometheus metrics, all prefixed ``auditlens_``, served at ``GET /metrics``."""

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_CONSUMED = Counter(
    "auditlens_messages_consumed_total", "Kafka messages taken from the input topics.", ["topic"]
)
EVENTS_CONSUMED = Counter(
    "auditlens_events_consumed_total",
    "Normalized events scored, by input topic and source.",
    ["topic", "source"],
)
CONSUMER_LAG = Gauge(
    "auditlens_consumer_lag_messages",
    "Messages behind the partition's high watermark, per assigned partition.",
    ["topic", "partition"],
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
ANOMALIES_SUPPRESSED = Counter(
    "auditlens_anomalies_suppressed_total",
    "Flagged events stored as suppressed by a suppression rule (and not alerted).",
)
WEBHOOK_DELIVERIES = Counter(
    "auditlens_webhook_deliveries_total",
    "Webhook delivery attempts by outcome: delivered, retry, dead, disabled.",
    ["outcome"],
)
WEBHOOK_DELIVERY_SECONDS = Histogram(
    "auditlens_webhook_delivery_seconds",
    "Duration of one webhook HTTP attempt.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
STATE_ENTITIES = Gauge(
    "auditlens_entity_state_entities", "Actors remembered in the scorer's entity state."
)
STATE_ROWS = Gauge(
    "auditlens_entity_state_rows", "Rows in the scorer's entity state (all history tables)."
)
SCORER_RESTARTS = Counter(
    "auditlens_scorer_restarts_total", "Times the scorer reconnected after a failure."
)
STORE_RETRIES = Counter(
    "auditlens_store_retries_total",
    "Times the scorer retried a batch's store write because the store was unavailable.",
)
GROUP_JOINS_RESUMED = Counter(
    "auditlens_group_joins_resumed_total",
    "Consumer-group joins a poll's timeout left unfinished, which the scorer resumed.",
)
COMMIT_FAILURES = Counter(
    "auditlens_offset_commit_failures_total",
    "Offset commits that failed (the broker was unavailable); the next checkpoint retries.",
)
STATE_SAVE_FAILURES = Counter(
    "auditlens_state_save_failures_total",
    "Partition-state snapshots that could not be saved (the store was unavailable); "
    "the next checkpoint retries.",
)
ARCHIVED_EVENTS = Counter(
    "auditlens_archived_events_total",
    "Scored events written to the archive (counted when their checkpoint landed).",
)
ARCHIVE_WRITE_FAILURES = Counter(
    "auditlens_archive_write_failures_total",
    "Archive writes that failed; the partition's offset stays put and the next "
    "checkpoint writes the range again.",
)
CHECKPOINT_SECONDS = Histogram(
    "auditlens_checkpoint_seconds",
    "Time to snapshot the owned partitions' state and commit their offsets.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# Drift of the live stream against the model version's training data (service.drift).
FEATURE_DRIFT_PSI = Gauge(
    "auditlens_feature_drift_psi",
    "Population stability index of each feature against its training bins, per window.",
    ["feature", "window"],
)
SCORE_DRIFT_PSI = Gauge(
    "auditlens_score_drift_psi",
    "PSI of the calibrated tail probabilities against the training calibration sample.",
    ["window"],
)
TAIL_UNIFORMITY_P = Gauge(
    "auditlens_score_tail_uniformity_pvalue",
    "Chi-square p-value of the live calibrated tail probabilities against the uniform "
    "distribution they follow when nothing changed (small: the stream moved).",
    ["window"],
)
ALERT_RATE = Gauge(
    "auditlens_alert_rate", "Share of scored events above the alert threshold.", ["window"]
)
ALERT_RATE_TARGET = Gauge(
    "auditlens_alert_rate_target", "The alert rate the scoring model was calibrated for."
)
SHADOW_MODEL_VERSION = Gauge(
    "auditlens_shadow_model_version",
    "Challenger version the scorer shadow-scores (NaN: none).",
    ["model"],
)
SHADOW_EVENTS = Counter("auditlens_shadow_events_total", "Events the challenger shadow-scored.")
SHADOW_ANOMALIES = Counter(
    "auditlens_shadow_anomalies_total",
    "Events the challenger would have flagged (stored as shadow evidence, never alerted).",
)
SHADOW_FAILURES = Counter(
    "auditlens_shadow_failures_total",
    "Shadow-scoring steps that failed (the champion's scoring went on unaffected).",
    ["step"],
)
SHADOW_SECONDS = Histogram(
    "auditlens_shadow_seconds",
    "Seconds one batch's shadow scoring took, on top of the champion's.",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OPTIMIZER_ACTIONS = Counter(
    "auditlens_optimizer_actions_total",
    "What the optimizer did: retrained, promoted, refused, rolled_back, retrain_failed.",
    ["action"],
)
OPTIMIZER_LAST_TICK = Gauge(
    "auditlens_optimizer_last_tick_timestamp_seconds",
    "When the optimizer last looked at the models (Unix time).",
)
