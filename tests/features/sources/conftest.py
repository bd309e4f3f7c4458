"""Every test here starts with the generic adapter mapped for the generic sample.

The mapping is process-wide state, so it is set before and cleared after each
test; ``AUDITLENS_GENERIC_MAPPING`` from the caller's environment never leaks in.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from features.sources import configure_generic, generic
from tests.features.sources.samples import GENERIC_MAPPING


@pytest.fixture(autouse=True)
def generic_mapping(monkeypatch: pytest.MonkeyPatch) -> Iterator[generic.GenericMapping]:
    monkeypatch.delenv(generic.ENV_VAR, raising=False)
    mapping = configure_generic(GENERIC_MAPPING)
    assert mapping is not None
    yield mapping
    generic.reset()
