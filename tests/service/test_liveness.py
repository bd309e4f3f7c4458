"""Progress: idle is live, waiting work with nothing finished is stalled."""

from __future__ import annotations

from service.liveness import Progress


def test_an_idle_scorer_is_never_stalled() -> None:
    progress = Progress(last_batch_done=0.0)
    progress.polled(backlog=0, now=1000.0)
    assert progress.stalled_for(now=5000.0) == 0.0


def test_waiting_records_count_from_the_last_finished_batch() -> None:
    progress = Progress(last_batch_done=0.0)
    progress.finished(backlog=3, now=100.0)
    progress.polled(backlog=9, now=150.0)
    assert progress.stalled_for(now=170.0) == 70.0


def test_a_batch_in_progress_counts_from_its_start() -> None:
    progress = Progress(last_batch_done=0.0)
    progress.started(now=500.0)
    assert progress.stalled_for(now=530.0) == 30.0
    progress.finished(backlog=0, now=531.0)
    assert progress.stalled_for(now=900.0) == 0.0
