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
from features.sources import (
    cloudtrail,
    falco,
    gatekeeper,
    generic,
    k8s_audit,
    opa,
    policyreport,
)


@dataclass(frozen=True)
class Adapter:
    """The interface of an adapter module, as a value."""

    source: str
    matches: Callable[[Mapping[str, Any]], bool]
    normalize: Callable[[Mapping[str, Any], str | None], list[NormalizedEvent]]

    @classmethod
    def from_module(cls, module: ModuleType) -> Adapter:
        return cls(source=module.SOURCE, matches=module.matches, normalize=module.normalize)


# Most specific first: each matches on a kind/apiVersion pair or a field set no
# earlier adapter's events carry; the configurable generic adapter comes last, so
# it never takes an event another adapter recognises.
ADAPTERS: tuple[Adapter, ...] = tuple(
    Adapter.from_module(module)
    for module in (k8s_audit, policyreport, gatekeeper, opa, falco, cloudtrail, generic)
)
BY_SOURCE: dict[str, Adapter] = {adapter.source: adapter for adapter in ADAPTERS}


def configure_generic(
    mapping: generic.GenericMapping | str | Mapping[str, Any] | None,
) -> generic.GenericMapping | None:
    """Set the generic adapter's field mapping (JSON text, its parsed form, or None to clear).

    Without a call, the mapping comes from ``AUDITLENS_GENERIC_MAPPING``. Raises
    ValueError naming what is wrong with the mapping, so a service can check it at start.
    """
    return generic.configure(mapping)


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
