"""The model ``POST /v1/score`` scores with.

In ``serve --role all`` the API shares the process with the streaming scorer and
uses the very version it scores with. Otherwise the champion is loaded from the
registry on first use and kept; every ``refresh_s`` seconds a cheap alias lookup
checks whether the champion moved, and only then is the new version loaded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from models.bundle import LoadedModel

if TYPE_CHECKING:
    from service.consumer import ScorerLoop

log = logging.getLogger(__name__)

Loader = Callable[[], LoadedModel | None]
VersionProbe = Callable[[], str | None]


class ModelProvider:
    def __init__(
        self,
        scorer: ScorerLoop | None,
        load: Loader,
        current_version: VersionProbe | None = None,
        refresh_s: float = 10.0,
        unavailable_hint: str = "no model version carries the serving alias yet",
    ) -> None:
        self.scorer = scorer
        self._load = load
        self._current_version = current_version
        self.refresh_s = refresh_s
        self.unavailable_hint = unavailable_hint
        self._model: LoadedModel | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def get(self) -> LoadedModel | None:
        """The model to score with, or None when there is none (yet)."""
        if self.scorer is not None and self.scorer.model is not None:
            return self.scorer.model
        with self._lock:
            now = time.monotonic()
            if now - self._checked < self.refresh_s:
                return self._model
            self._checked = now
            try:
                unchanged = (
                    self._model is not None
                    and self._current_version is not None
                    and self._current_version() == self._model.version
                )
                if unchanged:
                    return self._model
                loaded = self._load()
            except Exception:
                log.exception("loading the model for /v1/score failed")
                return self._model
            if loaded is not None and (
                self._model is None or loaded.version != self._model.version
            ):
                log.info("/v1/score uses %s version %s", loaded.name, loaded.version)
            self._model = loaded or self._model
            return self._model
