"""Source adapters: one module per event source, all with the same small interface.

Each adapter module defines

* ``SOURCE``: the ``source`` column value it produces;
* ``matches(doc) -> bool``: whether a parsed JSON object is this source's event;
* ``normalize(doc, raw) -> list[NormalizedEvent]``: the normalized rows (possibly
  none: a Kubernetes ``RequestReceived`` stage is not scored), raising
  :class:`features.exceptions.AdapterError` on a malformed event.

Detection tries the adapters in :data:`ADAPTERS` order, most specific first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from features.exceptions import AdapterError
from features.schema import NormalizedEvent
from features.sources import k8s_audit


@dataclass(frozen=True)
class Adapter:
    """The interface of an adapter module, as a value."""

    source: str
    matches: Callable[[Mapping[str, Any]], bool]
    normalize: Callable[[Mapping[str, Any], str | None], list[NormalizedEvent]]

    @classmethod
    def from_module(cls, module: ModuleType) -> Adapter:
        return cls(source=module.SOURCE, matches=module.matches, normalize=module.normalize)


ADAPTERS: tuple[Adapter, ...] = (Adapter.from_module(k8s_audit),)
BY_SOURCE: dict[str, Adapter] = {adapter.source: adapter for adapter in ADAPTERS}


def detect(doc: Mapping[str, Any]) -> Adapter:
    """The first adapter that recognises ``doc``; AdapterError when none does."""
    for adapter in ADAPTERS:
        if adapter.matches(doc):
            return adapter
    keys = ", ".join(sorted(str(k) for k in list(doc)[:8]))
    raise AdapterError(f"no source adapter recognises an object with keys [{keys}]")


def normalize(
    doc: Mapping[str, Any], raw: str | None = None, source: str | None = None
) -> list[NormalizedEvent]:
    """Normalize one event object, with the adapter pinned by ``source`` or detected."""
    if source is not None:
        adapter = BY_SOURCE.get(source)
        if adapter is None:
            raise AdapterError(f"unknown source {source!r}", reason="unknown_source")
    else:
        adapter = detect(doc)
    return adapter.normalize(doc, raw)
