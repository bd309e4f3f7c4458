"""``auditlens train`` keeps MLflow's own lines and library warnings off the terminal."""

from __future__ import annotations

import io
import logging
import sys
import warnings

import pytest
from mlflow.utils.logging_utils import eprint

from service.cli import _quiet_libraries


def test_without_verbose_mlflow_lines_and_warnings_are_hidden_and_ours_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)
    with _quiet_libraries(verbose=False):
        eprint("Created version '3' of model 'auditlens'.")
        warnings.warn("a library's deprecation", DeprecationWarning, stacklevel=1)
        logging.getLogger("mlflow.store").warning("an MLflow warning")
        logging.getLogger("training.train").warning("skipped archive file x: not parquet")
    assert terminal.getvalue() == "WARNING: skipped archive file x: not parquet\n"


def test_verbose_shows_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)
    with _quiet_libraries(verbose=True):
        eprint("Created version '3' of model 'auditlens'.")
    assert "Created version '3'" in terminal.getvalue()
