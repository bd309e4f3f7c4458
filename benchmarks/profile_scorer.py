"""Where a scorer's time goes: the real ``ScorerLoop`` under cProfile, on the real broker.

The loop runs in this process's main thread, with the same settings a ``serve
--role scorer`` process gets, consuming the filled stream topic under its own
consumer group for a bounded time. cProfile follows one thread, so the scoring
thread (``score_records``, steps 2 and 3, run while the next batch is polled)
gets a profiler of its own, and the two are added up. The result is the
functions with the most cumulative time, per micro-batch and as a share of the
loop's wall time, and how long each thread was busy: the main thread's
``process_batch`` (poll, store, dead letters) plus its checkpoints, and the
scoring thread's ``score_records``. Profiling slows Python-heavy code, so the
rates here are lower than unprofiled ones.
"""

from __future__ import annotations

import cProfile
import pstats
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.kafka_io import Cluster
from models import registry
from service.config import Settings
from service.consumer import ScorerLoop
from service.store.repository import Store

REPO = str(Path(__file__).resolve().parents[1]) + "/"


def _name(key: tuple[str, int, str]) -> str:
    """``path:function`` relative to the repository or site-packages.

    >>> _name(("/x/site-packages/kafka/consumer/group.py", 10, "poll"))
    'kafka/consumer/group.py:poll'
    >>> _name(("~", 0, "<built-in method time.sleep>"))
    '<built-in method time.sleep>'
    """
    path, _, function = key
    if path == "~":
        return function
    path = path.removeprefix(REPO)
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    return f"{path}:{function}"


def profile(
    cluster: Cluster,
    data_dir: Path,
    topic: str,
    partitions: int,
    group: str,
    work: Path,
    seconds: float,
    top: int = 20,
) -> dict[str, Any]:
    settings = Settings(
        data_dir=data_dir,
        kafka_bootstrap_servers=cluster.bootstrap,
        topics=topic,
        consumer_group=group,
        dlq_topic=f"{topic}.dlq",
        store_url=f"sqlite:///{work / 'store-profile.db'}",
        checkpoint_interval_s=1.0,
    )
    store = Store(settings.resolved_store_url)
    store.create_schema()
    config = registry.RegistryConfig(
        tracking_uri=settings.mlflow_tracking_uri,
        artifact_root=settings.mlflow_artifact_root,
        model_name=settings.model_name,
    )
    model = registry.load(config, settings.model_alias)
    if model is None:
        raise RuntimeError("no champion model to profile with")
    loop = ScorerLoop(settings, store, lambda: model)
    scoring = cProfile.Profile()
    score_records = loop.score_records

    def profiled_score_records(*args: Any) -> Any:  # runs in the scoring thread
        scoring.enable()
        try:
            return score_records(*args)
        finally:
            scoring.disable()

    loop.score_records = profiled_score_records  # type: ignore[method-assign]
    # Stop at the time limit or once the topic is drained, so idle polling stays out.
    finished = threading.Event()
    timer = threading.Thread(
        target=_stop_when_drained,
        args=(loop, finished, cluster.bootstrap, topic, partitions, group, seconds),
    )
    profiler = cProfile.Profile()
    close_error = None
    timer.start()
    started = time.perf_counter()
    try:
        profiler.enable()
        loop.run()
    except Exception as exc:  # raised while closing, after the final checkpoint
        close_error = f"{type(exc).__name__}: {exc}"
    finally:
        profiler.disable()
        wall_s = time.perf_counter() - started
        finished.set()
        timer.join()
        store.close()
    messages = sum(cluster.committed(group, topic).values())
    stats = pstats.Stats(profiler)
    stats.add(scoring)
    return {**summarize(stats, messages, top, wall_s), "run_error": close_error}


def _stop_when_drained(
    loop: ScorerLoop,
    finished: threading.Event,
    bootstrap: str,
    topic: str,
    partitions: int,
    group: str,
    seconds: float,
) -> None:
    watcher = Cluster(bootstrap)  # its own admin client: this runs beside the loop
    try:
        end = watcher.end_offsets(topic, partitions)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not finished.is_set():
            committed = watcher.committed(group, topic)
            if all(committed.get(p, -1) >= offset for p, offset in end.items()):
                break
            time.sleep(0.5)
    finally:
        loop.stop()
        watcher.close()


def summarize(stats: pstats.Stats, messages: int, top: int, wall_s: float) -> dict[str, Any]:
    """The hot functions of both threads; shares are of the loop's wall time ``wall_s``."""
    table: dict[tuple[str, int, str], tuple[Any, ...]] = vars(stats)["stats"]
    by_name = {_name(key): value for key, value in table.items()}

    def cumulative_s(suffix: str) -> float:
        key = next((k for k in by_name if k.endswith(suffix)), None)
        return float(by_name[key][3]) if key else 0.0

    def calls(suffix: str) -> int:
        key = next((k for k in by_name if k.endswith(suffix)), None)
        return int(by_name[key][1]) if key else 0

    batches = calls("service/consumer.py:score_records")
    main_s = cumulative_s("service/consumer.py:process_batch") + cumulative_s(
        "service/consumer.py:checkpoint"
    )
    scoring_s = cumulative_s("service/consumer.py:score_records")
    poll_s = cumulative_s("service/consumer.py:poll_batch")

    def entry(name: str, value: tuple[Any, ...]) -> dict[str, Any]:
        return {
            "function": name,
            "calls": int(value[1]),
            "cumulative_s": float(value[3]),
            "own_s": float(value[2]),
            "cumulative_ms_per_batch": 1000 * float(value[3]) / batches if batches else None,
            "own_ms_per_batch": 1000 * float(value[2]) / batches if batches else None,
            "share_of_wall": float(value[3]) / wall_s if wall_s else None,
        }

    # Cumulative: the project's and libraries' functions (built-ins only add noise there).
    ranked = sorted(by_name.items(), key=lambda item: item[1][3], reverse=True)
    cumulative = [
        entry(name, value)
        for name, value in ranked
        if not name.startswith("<") and float(value[3]) <= max(main_s, scoring_s)
    ][:top]
    by_own = sorted(by_name.items(), key=lambda item: item[1][2], reverse=True)
    own = [entry(name, value) for name, value in by_own[:10]]
    return {
        "messages": messages,
        "batches": batches,
        "wall_s": wall_s,
        "main_thread_busy_s": main_s,
        "scoring_thread_busy_s": scoring_s,
        "poll_batch_s": poll_s,
        "messages_per_s_profiled": messages / wall_s if wall_s else None,
        "messages_per_s_scoring_alone_profiled": messages / scoring_s if scoring_s else None,
        "top_cumulative": cumulative,
        "top_own": own,
    }
