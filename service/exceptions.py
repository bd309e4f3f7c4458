"""Errors raised by the service package.

AuditlensServiceError
├── ConfigurationError    a setting is invalid or a prerequisite is missing
└── ModelNotAvailableError no registered model version carries the requested alias
"""


class AuditlensServiceError(Exception):
    """Base of every error the service raises on purpose."""


class ConfigurationError(AuditlensServiceError):
    """A setting is invalid or a prerequisite (Java, Maven, PostgreSQL) is missing."""


class ModelNotAvailableError(AuditlensServiceError):
    """The scorer was asked to load a model alias that no version carries yet."""
