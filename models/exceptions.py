"""Errors raised by the models package.

ModelError
├── UnknownDetectorError   a detector name that no factory knows
├── FeatureMismatchError   scoring input lacks features the model was trained on
└── IncompatibleModelError a registered version of an earlier feature set or layout
"""


class ModelError(Exception):
    """Base of every error the models package raises on purpose."""


class UnknownDetectorError(ModelError):
    """Raised by the factory for a detector name it does not know."""


class FeatureMismatchError(ModelError):
    """Raised when the scoring frame lacks a feature the model was trained on."""


class IncompatibleModelError(ModelError):
    """Raised when a registered version was trained on another feature set: its features
    cannot be computed by this release, so it must be retrained, not scored."""
