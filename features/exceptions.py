"""Errors raised while turning raw bytes into normalized events and features.

    FeatureError
    ├── DecodeError     the bytes are not a JSON (or YAML) document: not UTF-8, not JSON, ...
    ├── AdapterError    the document is JSON but not an event any adapter understands,
    │                   or a field it needs is missing or of the wrong type
    └── FeatureComputationError  the feature pipeline failed on an otherwise valid event

Each carries a short machine-readable ``reason`` (used as the dead-letter header and
the metric label) besides its human message.
"""


class FeatureError(Exception):
    """Base class; ``reason`` is a stable snake_case label for metrics and dead letters."""

    reason = "feature_error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class DecodeError(FeatureError):
    """Raised when a message is not decodable text or not a JSON document."""

    reason = "not_json"


class AdapterError(FeatureError):
    """Raised when a document is not a shape any source adapter accepts."""

    reason = "unknown_shape"


class FeatureComputationError(FeatureError):
    """Raised when computing features for a batch fails."""

    reason = "feature_computation"
