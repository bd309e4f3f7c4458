"""Errors raised by the training package.

TrainingError   the training data or configuration cannot produce a model
"""


class TrainingError(Exception):
    """Raised when no model can be trained from the given inputs."""
