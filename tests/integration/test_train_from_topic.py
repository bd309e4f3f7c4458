"""Training from a Kafka topic replay sees exactly the events training from the files sees."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.conftest import TrainedEnvironment, run_cli

pytestmark = pytest.mark.integration


def test_topic_replay_trains_on_the_same_events_as_the_files(
    trained: TrainedEnvironment, service_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**service_env, "AUDITLENS_DATA_DIR": str(tmp_path / "data")}
    topic = env["AUDITLENS_TOPICS"]
    # A third of the training period: as many adapters and sources, a third of the fitting.
    lines = trained.train_file.read_bytes().splitlines(keepends=True)
    period = tmp_path / "period.jsonl"
    period.write_bytes(b"".join(lines[: len(lines) // 3]))
    run_cli(env, "replay", "--data", str(period), "--topic", topic)

    from_files = run_cli(env, "train", "--data", str(period))
    from_topic = run_cli(env, "train", "--topic", topic)

    def events(output: str) -> int:
        match = re.search(r"from (\d+) events", output)
        assert match, output
        return int(match.group(1))

    assert events(from_topic) == events(from_files) > 0
    assert "version 2" in from_topic
