"""Training progress on the terminal: a line per stage, erased when the stage fails."""

from __future__ import annotations

import io

import pytest

from training.progress import Terminal, stage


def test_each_stage_is_one_line_with_what_it_did_and_its_time() -> None:
    out = io.StringIO()
    terminal = Terminal(out)
    with stage(terminal, "reading events") as said:
        said("1,000 events")
    with stage(terminal, "fitting iforest"):
        pass
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("reading events ... 1,000 events (")
    assert lines[0].endswith(" s)")
    assert lines[1].startswith("fitting iforest ... (")


def test_a_failed_stage_erases_its_line_and_the_error_goes_on() -> None:
    out = io.StringIO()
    with pytest.raises(ValueError, match="bad input"), stage(Terminal(out), "reading events"):
        raise ValueError("bad input")
    assert out.getvalue() == "reading events ...\r\033[K"
