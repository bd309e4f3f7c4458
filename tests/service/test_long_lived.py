"""Freezing what a process holds for good: unseen by the collector, still freed once dropped."""

from __future__ import annotations

import subprocess
import sys

# Each case runs in a fresh interpreter: freezing the test process would hide its
# objects from the collector for the rest of the session.
BEFORE_AND_AFTER = """
import gc
from service.long_lived import freeze_long_lived
held = [[] for _ in range(1000)]
frozen = freeze_long_lived()
made_after = []
tracked = {id(o) for o in gc.get_objects()}
print(frozen >= 1000, id(held) in tracked, id(made_after) in tracked)
"""

CYCLE_FREED = """
import gc, weakref
from service.long_lived import freeze_long_lived
class Node: pass
node = Node(); node.self = node  # a reference cycle: only the collector frees it
gone = weakref.ref(node)
freeze_long_lived()
del node
gc.collect()
print(gone() is None)  # frozen: a full pass does not see it
freeze_long_lived()
print(gone() is None)  # thawed and collected by the next freeze
"""


def _run(program: str) -> list[str]:
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout.split()


def test_objects_alive_at_the_freeze_leave_the_collectors_sight_and_new_ones_do_not() -> None:
    assert _run(BEFORE_AND_AFTER) == ["True", "False", "True"]


def test_a_frozen_cycle_dropped_since_is_freed_by_the_next_freeze() -> None:
    assert _run(CYCLE_FREED) == ["False", "True"]
