"""Errors raised by the service package.

AuditlensServiceError
├── ConfigurationError      a setting is invalid or a prerequisite is missing
├── ModelNotAvailableError  no registered model version carries the requested alias
└── DependencyUnavailableError  Kafka, the store or the MLflow tracking server did not answer
"""


class AuditlensServiceError(Exception):
    """Base of every error the service raises on purpose."""


class ConfigurationError(AuditlensServiceError):
    """A setting is invalid or a prerequisite (Java, Maven, PostgreSQL) is missing."""


class ModelNotAvailableError(AuditlensServiceError):
    """The scorer was asked to load a model alias that no version carries yet."""


class DependencyUnavailableError(AuditlensServiceError):
    """A service auditlens depends on did not answer in time; the message says which
    setting points at it. Not the user's input: the CLI exits with its own code."""

    def __init__(self, dependency: str, message: str) -> None:
        super().__init__(message)
        self.dependency = dependency
