"""Where a scorer's time goes: the real ``ScorerLoop`` under cProfile, on the real broker.

The loop runs in this process's main thread (cProfile follows one thread), with
the same settings a ``serve --role scorer`` process gets, consuming the filled
stream topic under its own consumer group for a bounded time. The result is
the functions with the most cumulative time, also per micro-batch, and the
loop's rate with the Kafka fetch taken out (``process_batch`` minus
``poll_batch``), which bounds what a faster consumer could give. Profiling
slows Python-heavy code, so the rates here are lower than unprofiled ones.
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
    # Stop at the time limit or once the topic is drained, so idle polling stays out.
    finished = threading.Event()
    timer = threading.Thread(
        target=_stop_when_drained,
        args=(loop, finished, cluster.bootstrap, topic, partitions, group, seconds),
    )
    profiler = cProfile.Profile()
    close_error = None
    timer.start()
    try:
        profiler.enable()
        loop.run()
    except Exception as exc:  # raised while closing, after the final checkpoint
        close_error = f"{type(exc).__name__}: {exc}"
    finally:
        profiler.disable()
        finished.set()
        timer.join()
        store.close()
    messages = sum(cluster.committed(group, topic).values())
    return {**summarize(pstats.Stats(profiler), messages, top), "run_error": close_error}


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


def summarize(stats: pstats.Stats, messages: int, top: int) -> dict[str, Any]:
    table: dict[tuple[str, int, str], tuple[Any, ...]] = vars(stats)["stats"]
    by_name = {_name(key): value for key, value in table.items()}
    batch_key = next((k for k in by_name if k.endswith("service/consumer.py:process_batch")), None)
    poll_key = next((k for k in by_name if k.endswith("service/consumer.py:poll_batch")), None)
    batches = int(by_name[batch_key][1]) if batch_key else 0
    batch_s = float(by_name[batch_key][3]) if batch_key else 0.0
    poll_s = float(by_name[poll_key][3]) if poll_key else 0.0

    def entry(name: str, value: tuple[Any, ...]) -> dict[str, Any]:
        return {
            "function": name,
            "calls": int(value[1]),
            "cumulative_s": float(value[3]),
            "own_s": float(value[2]),
            "cumulative_ms_per_batch": 1000 * float(value[3]) / batches if batches else None,
            "own_ms_per_batch": 1000 * float(value[2]) / batches if batches else None,
            "share_of_batch": float(value[3]) / batch_s if batch_s else None,
        }

    # Cumulative: the project's and libraries' functions (built-ins only add noise there).
    ranked = sorted(by_name.items(), key=lambda item: item[1][3], reverse=True)
    cumulative = [
        entry(name, value)
        for name, value in ranked
        if not name.startswith("<") and float(value[3]) <= batch_s  # the loop's own wrappers out
    ][:top]
    by_own = sorted(by_name.items(), key=lambda item: item[1][2], reverse=True)
    own = [entry(name, value) for name, value in by_own[:10]]
    return {
        "messages": messages,
        "batches": batches,
        "process_batch_s": batch_s,
        "poll_batch_s": poll_s,
        "messages_per_s_profiled": messages / batch_s if batch_s else None,
        "messages_per_s_without_fetch_profiled": (
            messages / (batch_s - poll_s) if batch_s > poll_s else None
        ),
        "top_cumulative": cumulative,
        "top_own": own,
    }
