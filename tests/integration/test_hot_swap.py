"""A model promoted while the scorer runs is swapped in between batches: no event is lost,
none is scored twice, and each anomaly records the version that scored it."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from features.files import read_events
from features.schema import to_frame
from models.registry import RegistryConfig, load, set_alias
from service.scoring import score_events
from tests.integration.conftest import Processes, TrainedEnvironment, run_cli

pytestmark = pytest.mark.integration


def stored(store_url: str) -> dict[str, tuple[float, str]]:
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT event_id, score, model_version FROM anomalies")
            return {r[0]: (r[1], r[2]) for r in rows}
    except sa.exc.OperationalError:
        return {}
    finally:
        engine.dispose()


def wait_until(condition: object, processes: Processes, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out\n{processes.logs()}")


def test_promotion_under_a_running_scorer(
    trained: TrainedEnvironment,
    service_env: dict[str, str],
    processes: Processes,
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(trained.data_dir, data_dir)
    env = {**service_env, "AUDITLENS_DATA_DIR": str(data_dir), "AUDITLENS_MODEL_REFRESH_S": "1"}
    lines = trained.test_file.read_bytes().splitlines(keepends=True)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_bytes(b"".join(lines[: len(lines) // 2]))
    second.write_bytes(b"".join(lines[len(lines) // 2 :]))

    # What the stream must store: the first half judged by version 1, the second by
    # version 2, with one entity history running through both.
    trained_v2 = run_cli(env, "train", "--data", str(trained.train_file), "--seed", "1")
    assert "version 2" in trained_v2
    config = RegistryConfig(f"sqlite:///{data_dir / 'mlflow.db'}", data_dir / "mlflow-artifacts")
    v1 = load(config, "champion")
    set_alias(config, "under-test", "2")  # champion stays 1 until the stream is running
    v2 = load(config, "under-test")
    assert v1 is not None
    assert v2 is not None
    assert (v1.version, v2.version) == ("1", "2")
    state = v1.model.baseline_state.copy()
    expected: dict[str, tuple[float, str]] = {}
    for part, model in ((first, v1), (second, v2)):
        frame, _ = to_frame(read_events([part], reports=state.reports).events)
        scored = score_events(model, frame, state).frame.filter("is_anomaly")
        expected.update(
            {
                e: (s, model.version)
                for e, s in zip(scored["event_id"], scored["score"], strict=True)
            }
        )
    first_half = {k: v for k, v in expected.items() if v[1] == "1"}
    assert first_half, "version 1 flags nothing in the first half: the test would prove nothing"
    assert len(expected) > len(first_half), "version 2 flags nothing in the second half"

    processes.serve(env)
    run_cli(env, "replay", "--data", str(first), "--topic", env["AUDITLENS_TOPICS"])
    wait_until(lambda: len(stored(env["AUDITLENS_STORE_URL"])) >= len(first_half), processes)
    run_cli(env, "models", "promote", "2")
    wait_until(lambda: "scoring with auditlens version 2" in processes.logs(), processes)
    run_cli(env, "replay", "--data", str(second), "--topic", env["AUDITLENS_TOPICS"])
    wait_until(lambda: len(stored(env["AUDITLENS_STORE_URL"])) >= len(expected), processes)
    time.sleep(2)
    assert stored(env["AUDITLENS_STORE_URL"]) == expected
