"""One settings object for the whole service, read from ``AUDITLENS_*`` variables.

Every process (CLI, scorer, API) builds :class:`Settings` once at start, so a
misspelt value fails loudly before any work is done instead of half-way through
a batch.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.exceptions import ConfigurationError


class Settings(BaseSettings):
    """Typed configuration; the README's settings table documents each field."""

    model_config = SettingsConfigDict(env_prefix="AUDITLENS_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".auditlens"),
        description="Everything local: SQLite store, MLflow tracking file, entity state.",
    )
    kafka_bootstrap_servers: str = Field(
        default="",
        description="Kafka cluster (host:port,...). Empty: `make run` starts a local broker.",
    )
    store_url: str = Field(
        default="",
        description="SQLAlchemy URL of the store. Empty: SQLite file in the data directory.",
    )
    api_host: str = Field(default="127.0.0.1", description="Address the HTTP API binds to.")
    api_port: int = Field(default=8080, ge=0, le=65535, description="Port of the HTTP API.")
    model_name: str = Field(default="auditlens", description="Registered MLflow model name.")
    model_alias: str = Field(default="champion", description="Alias the scorer loads.")
    topics: str = Field(
        default="audit.k8s,audit.cloudtrail,policy.results",
        description="Comma-separated input topics the scorer consumes.",
    )
    dlq_topic: str = Field(default="audit.dlq", description="Dead-letter topic.")
    consumer_group: str = Field(default="auditlens-scorer", description="Kafka consumer group.")
    batch_max_events: int = Field(
        default=20000, ge=1, description="Largest micro-batch the scorer processes at once."
    )
    batch_max_wait_ms: int = Field(
        default=250, ge=1, description="Longest the scorer waits to fill a micro-batch."
    )
    batch_linger_ms: int = Field(
        default=20,
        ge=0,
        description="Once a micro-batch has events, how long the scorer waits for more "
        "before processing it.",
    )
    alert_rate: float = Field(
        default=0.005,
        gt=0.0,
        lt=1.0,
        description="Target fraction of training events above the alert threshold.",
    )
    retrain_window_days: int = Field(
        default=14,
        ge=1,
        description="`auditlens retrain` trains on the archive's last this many days.",
    )
    drift_psi_max: float = Field(
        default=0.2,
        gt=0.0,
        description="A feature whose live PSI against its training bins exceeds this has "
        "drifted (0.1–0.2 is moving, above 0.2 shifted: the usual reading of PSI).",
    )
    retrain_interval_h: float = Field(
        default=24.0,
        ge=0.0,
        description="The optimizer retrains a challenger this many hours after the last "
        "retrain (0: only when drift says so).",
    )
    retrain_cooldown_h: float = Field(
        default=6.0,
        ge=0.0,
        description="Least hours between two retrains the optimizer starts because of drift.",
    )
    alert_rate_factor: float = Field(
        default=3.0,
        gt=1.0,
        description="A live alert rate more than this factor above or below its target "
        "counts as drift (the optimizer retrains) and bounds the gate's alert-rate check.",
    )
    optimizer_window: str = Field(
        default="24h",
        description="The live window the optimizer judges drift and alert rate over "
        "(e.g. `15m`, `1h`, `24h`); a window shorter than a day compares one part of the "
        "daily cycle with training that spans whole days.",
    )
    optimizer_interval_s: float = Field(
        default=60.0, gt=0, description="How often the optimizer looks at the models."
    )
    optimizer_lease_s: float = Field(
        default=600.0,
        gt=0,
        description="How long the optimizer's lease lasts unless renewed; a holder that "
        "dies frees it after this. Renewed while a retrain runs.",
    )
    shadow_enabled: bool = Field(
        default=True,
        description="Whether scorers shadow-score the version with alias `challenger`.",
    )
    shadow_hours: float = Field(
        default=24.0,
        ge=0.0,
        description="Hours a challenger is shadow-scored before the gate decides (0: as soon "
        "as both versions scored AUDITLENS_SHADOW_MIN_EVENTS).",
    )
    shadow_min_events: int = Field(
        default=10_000,
        ge=1,
        description="Least live events both versions must have scored before the gate judges them.",
    )
    auto_promote: bool = Field(
        default=True,
        description="Whether the optimizer promotes a challenger that passes the gate "
        "(false: it records the gate's decision and leaves the alias to people).",
    )
    gate_min_verdicts: int = Field(
        default=20,
        ge=1,
        description="Least analyst verdicts on a version's flagged events before the gate "
        "compares precision.",
    )
    gate_precision_tolerance: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="How much lower than the champion's a challenger's precision on "
        "verdicts may be.",
    )
    gate_min_true_positive_recall: float = Field(
        default=0.9,
        ge=0.0,
        le=1.0,
        description="Share of the champion's confirmed true positives in the shadow window "
        "the challenger must flag too.",
    )
    guard_hours: float = Field(
        default=24.0,
        ge=0.0,
        description="Hours after a promotion the optimizer watches the new champion and "
        "rolls it back on a breach (0: no automatic rollback).",
    )
    guard_alert_factor: float = Field(
        default=10.0,
        gt=1.0,
        description="A new champion whose live alert rate is this factor off its target "
        "(either way) is rolled back.",
    )
    guard_max_error_rate: float = Field(
        default=0.01,
        ge=0.0,
        le=1.0,
        description="A new champion whose scoring errors (dead letters) exceed this share "
        "of its events is rolled back.",
    )
    guard_min_events: int = Field(
        default=1000,
        ge=1,
        description="Live events a window needs before the optimizer judges a champion on "
        "it: for the guard after a promotion and for the drift trigger.",
    )
    topic_sources: str = Field(
        default="",
        description="Pin a topic's source instead of detecting it per event: "
        "`topic=source,...` (e.g. `audit.k8s=k8s_audit`).",
    )
    max_message_bytes: int = Field(
        default=1_048_576, ge=1024, description="Larger messages are dead-lettered as oversize."
    )
    model_refresh_s: float = Field(
        default=10.0, gt=0, description="How often the scorer checks whether the alias moved."
    )
    checkpoint_interval_s: float = Field(
        default=10.0,
        gt=0,
        description="How often the scorer snapshots entity state and commits offsets.",
    )
    state_backend: Literal["store", "directory"] = Field(
        default="store",
        description="Where each partition's entity state and offset are saved: `store` "
        "(the store, which every scorer reaches: no shared disk needed) or `directory` "
        "(the data directory, which scorers of one group must then share).",
    )
    archive_enabled: bool = Field(
        default=True,
        description="Whether the scorer archives every event it scores (with its score and "
        "model version) as Parquet, for retraining and drift.",
    )
    archive_url: str = Field(
        default="",
        description="Where the archive lives: a directory or any URL polars writes to "
        "(e.g. `s3://bucket/auditlens`); empty: `<data dir>/archive`.",
    )
    archive_retention_days: int = Field(
        default=30,
        ge=0,
        description="Days a local archive keeps each file, from when it was written; "
        "0 keeps everything. Object storage keeps its own lifecycle rules.",
    )
    ui_session_hours: float = Field(
        default=8.0,
        gt=0,
        le=24 * 30,
        description="Hours a console sign-in lasts before the browser must sign in again.",
    )
    ui_secure_cookie: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Whether the console's session cookie is `Secure` (sent over HTTPS only): "
        "`auto` when the request came over HTTPS (or a trusted proxy says so), `always` "
        "behind a TLS-terminating ingress, `never` for plain-HTTP tests.",
    )
    ui_activity_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="Days of an entity's archived activity the console's anomaly page draws.",
    )
    state_max_entries: int = Field(
        default=2_000_000,
        ge=1000,
        description="Most keys kept per entity-history table; the least recently seen are evicted.",
    )
    malloc_mmap_threshold_bytes: int = Field(
        default=1_048_576,
        ge=0,
        le=33_554_432,
        description="Memory blocks this large or larger are given back to the system as soon "
        "as they are freed (glibc's mmap threshold, fixed); 0 keeps glibc's sliding default.",
    )
    blas_threads: int = Field(
        default=1,
        ge=0,
        le=256,
        description="Threads of the BLAS library (numpy's matrix products) in `auditlens serve`; "
        "0 keeps the library's default (one per core, spinning between products).",
    )
    generic_mapping: str = Field(
        default="",
        description="Column -> dotted-path mapping (JSON) for the generic JSON adapter; "
        "empty: generic events are not recognised.",
    )
    role: Literal["all", "scorer", "api", "dispatcher", "optimizer"] = Field(
        default="all", description="What `auditlens serve` runs."
    )
    health_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Port of `/livez`, `/readyz` and `/metrics` for the `scorer` and "
        "`dispatcher` roles, which serve no API; unset: they serve nothing over HTTP.",
    )
    stall_s: float = Field(
        default=120.0,
        gt=0,
        description="`/livez` fails once records have waited this long with no batch "
        "finished (a stuck scorer, for the orchestrator to restart).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level of the service."
    )
    api_max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest HTTP request body the API accepts; larger ones get 413.",
    )
    score_max_events: int = Field(
        default=1000,
        ge=1,
        description="Most raw events one `POST /v1/score` request may carry; more get 413.",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Allow webhook URLs that resolve to loopback, private or link-local "
        "addresses (receivers inside a private network).",
    )
    webhook_dispatcher: bool = Field(
        default=True,
        description="Whether `auditlens serve` runs the webhook dispatcher in-process.",
    )
    webhook_timeout_s: float = Field(
        default=10.0, gt=0, description="Timeout of one webhook HTTP attempt."
    )
    webhook_max_attempts: int = Field(
        default=8, ge=1, description="Attempts per alert before it is marked dead."
    )
    webhook_backoff_base_s: float = Field(
        default=5.0, gt=0, description="Delay after the first failed attempt; doubles after each."
    )
    webhook_backoff_max_s: float = Field(
        default=3600.0, gt=0, description="Longest delay between two attempts (before jitter)."
    )
    webhook_poll_s: float = Field(
        default=1.0, gt=0, description="How often an idle dispatcher looks for due alerts."
    )
    webhook_concurrency: int = Field(
        default=4, ge=1, le=64, description="Deliveries the dispatcher makes in parallel."
    )
    dependency_timeout_s: float = Field(
        default=5.0,
        gt=0,
        description="Connect / request timeout of every call to the store, MLflow and Kafka "
        "made by the CLI and the API.",
    )
    dependency_retries: int = Field(
        default=2, ge=0, le=10, description="Retries of a failed MLflow request."
    )
    reconnect_max_s: float = Field(
        default=2.0,
        gt=0,
        description="Longest pause of the scorer between two attempts to reach the broker or "
        "the store again.",
    )

    @field_validator("optimizer_window")
    @classmethod
    def _window_valid(cls, value: str) -> str:
        from service.windows import parse_window

        parse_window(value)  # raises ValueError with the accepted forms
        return value

    @field_validator("topics")
    @classmethod
    def _topics_not_empty(cls, value: str) -> str:
        if not [t for t in value.split(",") if t.strip()]:
            raise ValueError("at least one topic is required")
        return value

    @field_validator("topic_sources")
    @classmethod
    def _topic_sources_valid(cls, value: str) -> str:
        from features.sources import BY_SOURCE

        for pair in filter(None, (p.strip() for p in value.split(","))):
            topic, sep, source = pair.partition("=")
            if not sep or not topic.strip():
                raise ValueError(f"expected topic=source, got {pair!r}")
            if source.strip() not in BY_SOURCE:
                raise ValueError(
                    f"unknown source {source.strip()!r}; known: {', '.join(sorted(BY_SOURCE))}"
                )
        return value

    @field_validator("generic_mapping")
    @classmethod
    def _generic_mapping_valid(cls, value: str) -> str:
        from features.sources import configure_generic

        if value:
            configure_generic(value)  # raises ValueError naming what is wrong
        return value

    @cached_property
    def pinned_sources(self) -> dict[str, str]:
        pairs = (p.partition("=") for p in self.topic_sources.split(",") if p.strip())
        return {topic.strip(): source.strip() for topic, _, source in pairs}

    @cached_property
    def topic_list(self) -> list[str]:
        return [t.strip() for t in self.topics.split(",") if t.strip()]

    @property
    def resolved_archive_url(self) -> str:
        """The archive's root, defaulting to a directory inside the data directory."""
        return self.archive_url or str((self.data_dir / "archive").resolve())

    @property
    def resolved_store_url(self) -> str:
        """The store URL, defaulting to a SQLite file inside the data directory."""
        if self.store_url:
            return self.store_url
        return f"sqlite:///{(self.data_dir / 'auditlens.db').resolve()}"

    @property
    def mlflow_tracking_uri(self) -> str:
        """MLflow's own ``MLFLOW_TRACKING_URI`` wins; else a SQLite file in the data dir."""
        import os

        explicit = os.environ.get("MLFLOW_TRACKING_URI")
        if explicit:
            return explicit
        return f"sqlite:///{(self.data_dir / 'mlflow.db').resolve()}"

    @property
    def mlflow_artifact_root(self) -> Path:
        return (self.data_dir / "mlflow-artifacts").resolve()


def load_settings() -> Settings:
    """Build settings from the environment, turning validation errors into one clear message."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"AUDITLENS_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from exc
