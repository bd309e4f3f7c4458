"""The ``auditlens`` command line (the contract is in the README)."""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import signal
import sys
import textwrap
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import orjson

from models.exceptions import ModelError
from service.config import Settings, load_settings
from service.exceptions import AuditlensServiceError, ConfigurationError
from training.exceptions import TrainingError

if TYPE_CHECKING:
    from models.bundle import LoadedModel
    from models.registry_config import RegistryConfig
    from service.optimizer.loop import Optimizer
    from service.store.repository import Store
    from training.progress import Progress


def _registry_config(settings: Settings) -> RegistryConfig:
    from models.registry_config import RegistryConfig

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return RegistryConfig(
        tracking_uri=settings.mlflow_tracking_uri,
        artifact_root=settings.mlflow_artifact_root,
        model_name=settings.model_name,
    )


def _store(settings: Settings) -> Store:
    from service.store.repository import Store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.resolved_store_url, connect_timeout_s=settings.dependency_timeout_s)
    store.create_schema()
    return store


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    from training.synthetic import generate

    if args.stratus is not None and not args.stratus.is_dir():
        raise ConfigurationError(f"--stratus {args.stratus}: not a folder")
    counts = generate(
        args.out,
        seed=args.seed,
        days=args.days,
        events_per_day=args.events_per_day,
        stratus=args.stratus,
        profile=args.profile,
    )
    spliced = f", {counts['stratus']} of them spliced Stratus records" if args.stratus else ""
    print(
        f"wrote {args.out} ({args.profile} profile): {counts['train']} training events, "
        f"{counts['test']} test events "
        f"({counts['attacks']} labelled attack events{spliced}; "
        f"{counts['benign']} benign rare events in benign.csv)"
    )
    return 0


def parse_since(value: str) -> date:
    """``--since``: a day (YYYY-MM-DD) or the last N days (``14d``, counting today).

    >>> parse_since("2026-03-01")
    datetime.date(2026, 3, 1)
    """
    if value.endswith("d") and value[:-1].isdigit():
        return datetime.now(UTC).date() - timedelta(days=int(value[:-1]) - 1)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a day (YYYY-MM-DD) or a number of days (14d), got {value!r}"
        ) from None


@contextmanager
def _quiet_libraries(verbose: bool) -> Iterator[None]:
    """Keep MLflow's own lines (``Created version ...``, INFO logs) and library warnings
    off the terminal unless ``verbose``; auditlens' own warnings still show, plainly."""
    if verbose:
        yield
        return
    terminal = sys.stderr
    handler = logging.StreamHandler(terminal)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler.setLevel(logging.WARNING)
    ours = [logging.getLogger(name) for name in ("training", "features", "models", "service")]
    for logger in ours:
        logger.addHandler(handler)
        logger.propagate = False
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger in ours:
            logger.removeHandler(handler)
            logger.propagate = True


@contextmanager
def _training_run(args: argparse.Namespace, settings: Settings) -> Iterator[Progress | None]:
    """What `train` and `retrain` show while they work: each stage on a terminal's
    stderr, and MLflow's own output only with ``--verbose``."""
    verbose = args.verbose or settings.log_level == "DEBUG"
    if not verbose:
        os.environ["MLFLOW_LOGGING_LEVEL"] = "ERROR"  # read when MLflow is imported
    from training.progress import Terminal

    with _quiet_libraries(verbose):
        yield Terminal(sys.stderr) if sys.stderr.isatty() else None


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from training.train import TrainingOptions, train

    excluded: frozenset[str] = frozenset()
    benign: frozenset[str] = frozenset()
    if args.use_verdicts:
        from training.verdicts import read_verdicts

        verdicts = read_verdicts(settings.resolved_store_url)
        excluded, benign = verdicts.true_positive, verdicts.benign
        print(
            f"verdicts: excluding {len(excluded)} true positives, "
            f"weighting {len(benign)} benign/false positives ×{args.benign_weight}"
        )
    options = TrainingOptions(
        exclude_event_ids=excluded,
        benign_event_ids=benign,
        benign_weight=args.benign_weight,
        detectors=tuple(d.strip() for d in args.detectors.split(",") if d.strip()),
        alert_rate=settings.alert_rate,
        seed=args.seed,
        promote=args.promote,
        labels=args.labels,
        validation=tuple(args.validation or ()),
        validation_fraction=args.validation_fraction,
        topic=args.topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        archive=settings.resolved_archive_url if args.archive else None,
        since=args.since,
    )
    if not args.data and not args.topic and not args.archive:
        raise ConfigurationError(
            "give training data with --data PATH..., --topic TOPIC and/or --archive"
        )
    if args.since and not args.archive:
        raise ConfigurationError("--since applies to --archive")
    if args.topic and not settings.kafka_bootstrap_servers:
        raise ConfigurationError("--topic needs AUDITLENS_KAFKA_BOOTSTRAP_SERVERS")
    with _training_run(args, settings) as progress:
        result = train(args.data or [], _registry_config(settings), options, progress)
    print(
        f"registered {settings.model_name} version {result.version} "
        f"from {result.events} events ({result.rejected} inputs rejected)"
    )
    for key in ("roc_auc", "pr_auc", "recall_0.5pct", "scenarios_caught_0.5pct"):
        if key in result.metrics:
            print(f"  {key}: {result.metrics[key]:.4f}")
    if args.promote:
        alias = "champion" if result.promoted else "challenger"
        print(f"alias {alias} -> version {result.version}: {result.reason}")
    return 0


def _load_model(settings: Settings, uri: str | None) -> LoadedModel:
    from models import registry_reader
    from service.exceptions import ModelNotAvailableError

    config = _registry_config(settings)
    alias = settings.model_alias
    if uri:
        prefix = f"models:/{settings.model_name}@"
        if not uri.startswith(prefix):
            raise ConfigurationError(f"--model must look like {prefix}ALIAS")
        alias = uri[len(prefix) :]
    loaded = registry_reader.load(config, alias)
    if loaded is None:
        raise ModelNotAvailableError(
            f"no version of {settings.model_name} carries the alias {alias!r}; "
            "run `auditlens train --data ... --promote` first"
        )
    return loaded


def cmd_score(args: argparse.Namespace, settings: Settings) -> int:
    from features.files import read_events
    from features.schema import to_frame
    from service.scoring import result_records, score_events

    model = _load_model(settings, args.model)
    state = model.model.baseline_state.copy()
    read = read_events(args.data, reports=state.reports)
    frame, bad = to_frame(read.events)
    batch = score_events(model, frame, state, explain_all=True)
    records = result_records(model, batch)
    with open(args.out, "wb") as out:
        out.writelines(orjson.dumps(r) + b"\n" for r in records)
    flagged = sum(1 for r in records if r["is_anomaly"])
    print(
        f"scored {len(records)} events into {args.out}: {flagged} anomalies; "
        f"{len(read.errors) + len(bad)} inputs rejected"
    )
    for where, error in read.errors[:10]:
        print(f"  rejected {where}: {error} ({error.reason})", file=sys.stderr)
    return 0


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from service.replay import replay

    if not settings.kafka_bootstrap_servers:
        raise ConfigurationError("set AUDITLENS_KAFKA_BOOTSTRAP_SERVERS to replay into Kafka")
    sent = replay(
        args.data, args.topic, settings.kafka_bootstrap_servers, settings.dependency_timeout_s
    )
    print(f"produced {sent} messages to {args.topic}")
    return 0


def _start_dispatcher(settings: Settings, store: Store, always: bool) -> Callable[[], None]:
    """Run the webhook dispatcher in a thread (unless disabled); returns how to stop it."""
    if not (always or settings.webhook_dispatcher):
        return lambda: None
    from service.webhooks.dispatcher import WebhookDispatcher

    dispatcher = WebhookDispatcher(settings, store)
    thread = threading.Thread(target=dispatcher.run, name="webhooks", daemon=True)
    thread.start()

    def stop() -> None:
        dispatcher.stop()
        thread.join(timeout=30)

    return stop


def _catch_stop_signals() -> threading.Event:
    """SIGTERM and SIGINT set the returned event instead of ending the process.

    uvicorn handles both while it serves, and once it has shut down it raises the
    signal again with the handler it found: with the default one the process would
    die there, before the scorer's final checkpoint and the dispatcher's stop.
    """
    stop = threading.Event()

    def _graceful(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _graceful)
    signal.signal(signal.SIGINT, _graceful)
    return stop


def _wait_for_signal(stop: threading.Event, scorer_thread: threading.Thread | None) -> None:
    """Block until ``stop`` is set (or the scorer thread ends): a role with no HTTP."""
    while not stop.is_set() and (scorer_thread is None or scorer_thread.is_alive()):
        stop.wait(0.5)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """``all`` and ``api`` serve the API on the API port; ``scorer`` and ``dispatcher``
    serve only the operations endpoints, on ``AUDITLENS_HEALTH_PORT`` when it is set."""
    import uvicorn

    from models import registry_reader
    from service.allocator import fix_mmap_threshold
    from service.api.app import create_app
    from service.blas import limit_blas_threads
    from service.consumer import ScorerLoop, ShadowSource
    from service.logs import configure_logging

    configure_logging(settings.log_level)
    fix_mmap_threshold(settings.malloc_mmap_threshold_bytes)
    limit_blas_threads(settings.blas_threads)  # numpy (and its BLAS) is imported by now
    role = args.role or settings.role
    store = _store(settings)
    scorer: ScorerLoop | None = None
    worker: threading.Thread | None = None
    if role in ("all", "scorer"):
        if not settings.kafka_bootstrap_servers:
            raise ConfigurationError(
                "AUDITLENS_KAFKA_BOOTSTRAP_SERVERS is not set: the scorer needs a Kafka cluster "
                "(`make run` starts a local one)"
            )
        config = _registry_config(settings)
        shadow = (
            ShadowSource(
                lambda: registry_reader.alias_version(config, "challenger"),
                lambda version: registry_reader.load_version(config, version, "challenger"),
            )
            if settings.shadow_enabled
            else None
        )
        scorer = ScorerLoop(
            settings,
            store,
            lambda: registry_reader.load(config, settings.model_alias),
            lambda: registry_reader.alias_version(config, settings.model_alias),
            shadow,
        )
        worker = threading.Thread(target=scorer.run, name="scorer", daemon=True)
        worker.start()
    optimizer: Optimizer | None = None
    optimizer_thread: threading.Thread | None = None
    if role in ("all", "optimizer"):
        from service.optimizer.loop import Optimizer  # MLflow's client: not in a scorer

        optimizer = Optimizer(settings, store, _registry_config(settings))
        optimizer_thread = threading.Thread(target=optimizer.run, name="optimizer", daemon=True)
        optimizer_thread.start()
    stop_dispatcher = _start_dispatcher(settings, store, always=role == "dispatcher")
    stop = _catch_stop_signals()
    try:
        if role in ("all", "api"):
            app = create_app(store, scorer, settings)
            uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_config=None)
        elif settings.health_port is not None:
            app = create_app(store, scorer, settings, operations_only=True)
            uvicorn.run(app, host=settings.api_host, port=settings.health_port, log_config=None)
        else:
            _wait_for_signal(stop, worker or optimizer_thread)
    finally:
        if optimizer is not None and optimizer_thread is not None:
            optimizer.stop()
            optimizer_thread.join(timeout=30)
        if scorer is not None and worker is not None:
            scorer.stop()
            worker.join(timeout=30)
        stop_dispatcher()
    return 0


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from models import registry

    config = _registry_config(settings)
    if args.models_command == "list":
        for v in registry.list_versions(config):
            aliases = ",".join(v["aliases"]) or "-"
            print(f"{v['version']:>4}  {aliases:<24} run {v['run_id']}")
    elif args.models_command == "promote":
        previous = registry.promote(config, args.version)
        _record_decision(settings, args.version, "promoted", f"by hand (was {previous})")
        print(f"champion -> version {args.version} (was {previous or 'unset'})")
    else:
        current = registry.alias_version(config, "champion")
        restored = registry.rollback(config)
        if restored is None:
            print("nothing to roll back to: champion has no earlier version", file=sys.stderr)
            return 1
        if current is not None:
            _record_decision(settings, current, "rolled_back", f"by hand, to {restored}")
        print(f"champion -> version {restored}")
    return 0


def _record_decision(settings: Settings, version: str, kind: str, reason: str) -> None:
    """Put a change made by hand on the same timeline as the optimizer's."""
    store = _store(settings)
    try:
        store.record_decision(settings.model_name, version, kind, reason, {}, "cli")
    finally:
        store.close()


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings)
    try:
        return _keys(args, store)
    finally:
        store.close()


def _keys(args: argparse.Namespace, store: Store) -> int:
    from service.store.exceptions import NotFoundError

    if args.keys_command == "list":
        for key in store.list_api_keys():
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            print(
                f"{key.key_id}  {key.role:<7}  {state:<18}  "
                f"created {key.created_at:%Y-%m-%d %H:%M}  {key.name or ''}".rstrip()
            )
        return 0
    if args.keys_command == "revoke":
        try:
            revoked = store.revoke_api_key(args.key_id)
        except NotFoundError as exc:
            print(f"auditlens: {exc}", file=sys.stderr)
            return 1
        print(f"revoked {revoked.role} key {revoked.key_id}; it no longer authenticates")
        return 0
    issued = store.issue_api_key(args.role, name=args.name)
    print(f"created a {args.role} API key {issued.record.key_id}; it is shown once, store it now:")
    print(issued.key)
    return 0


def cmd_retrain(args: argparse.Namespace, settings: Settings) -> int:
    from training.retrain import retrain, window_start

    since = args.since or window_start(settings.resolved_archive_url, settings.retrain_window_days)
    with _training_run(args, settings) as progress:
        result = retrain(
            _registry_config(settings),
            settings.resolved_archive_url,
            settings.resolved_store_url,
            since,
            settings.alert_rate,
            benign_weight=args.benign_weight,
            seed=args.seed,
            progress=progress,
        )
    print(
        f"registered {settings.model_name} version {result.training.version} from "
        f"{result.training.events} archived events since {since.isoformat()} "
        f"({result.excluded_true_positives} true positives excluded, "
        f"{result.benign_weighted} benign verdicts weighted ×{args.benign_weight})"
    )
    print(f"alias challenger -> version {result.training.version}")
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from service.report import build_report, render_svg, render_table

    store = _store(settings)
    try:
        rows = build_report(store, _registry_config(settings))
    finally:
        store.close()
    if not rows:
        print(f"no version of {settings.model_name} is registered yet: run `auditlens train`")
        return 0
    print(render_table(rows))
    if args.svg is not None:
        args.svg.write_text(render_svg(rows))
        print(f"plot written to {args.svg}")
    return 0


def cmd_drift(args: argparse.Namespace, settings: Settings) -> int:
    from service.drift import parse_window, stored_reports
    from service.drift_table import render

    try:
        seconds = parse_window(args.window)
    except ValueError as exc:
        raise ConfigurationError(f"--window: {exc}") from exc
    store = _store(settings)
    try:
        version = args.version or store.latest_drift_version(settings.model_name)
        if version is None:
            print(f"no scorer has counted drift for {settings.model_name} yet")
            return 0
        reports = stored_reports(store, settings.model_name, version, {args.window: seconds})
    finally:
        store.close()
    if reports is None:
        print(
            f"{settings.model_name} version {version} has no drift reference: no scorer "
            "scored with it, or it was trained before drift was measured"
        )
        return 0
    print(
        render(
            settings.model_name,
            version,
            args.window,
            reports[args.window],
            settings.drift_psi_max,
            args.top,
        )
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="auditlens", description=__doc__)
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on an error, print the traceback too (for bug reports); "
        "AUDITLENS_LOG_LEVEL=DEBUG does the same",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    from training.synthetic.profile import PROFILES

    profiles = "\n".join(
        textwrap.fill(
            p.description, 79, initial_indent=f"  {name:<15} ", subsequent_indent=" " * 18
        )
        for name, p in PROFILES.items()
    )
    gen = sub.add_parser(
        "generate",
        help="write a synthetic environment with labelled attacks",
        epilog=f"profiles (--profile):\n{profiles}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--days", type=int, default=14)
    gen.add_argument("--events-per-day", type=int, default=4000)
    gen.add_argument(
        "--stratus",
        type=Path,
        help="folder of Stratus Red Team detonation logs to splice into the test period",
    )
    gen.add_argument(
        "--profile",
        default="default",
        choices=list(PROFILES),
        help="shape of the organisation (size, naming, hours, tools, machine cadence); "
        "'default' is the one the models were developed on (listed below)",
    )
    gen.set_defaults(handler=cmd_generate)

    tr = sub.add_parser("train", help="fit, register in MLflow, optionally promote")
    tr.add_argument("--data", type=Path, nargs="+", help="event files or folders")
    tr.add_argument("--topic", help="also read a Kafka topic from its beginning (a replay)")
    tr.add_argument(
        "--archive",
        action="store_true",
        help="also read the scorer's archive (AUDITLENS_ARCHIVE_URL)",
    )
    tr.add_argument(
        "--since",
        type=parse_since,
        help="with --archive: only events from this day on (YYYY-MM-DD) or the last N days (14d)",
    )
    tr.add_argument("--detectors", default="iforest,autoencoder")
    tr.add_argument(
        "--labels",
        type=Path,
        help="labels CSV (event_id,scenario): attacks are kept out of training and evaluated",
    )
    tr.add_argument(
        "--validation",
        type=Path,
        nargs="+",
        help="files to evaluate on (default with --labels: the last part of --data by time)",
    )
    tr.add_argument("--validation-fraction", type=float, default=0.25)
    tr.add_argument(
        "--use-verdicts",
        action="store_true",
        help="exclude events analysts closed as true positives; weight benign ones",
    )
    tr.add_argument("--benign-weight", type=int, default=3)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--promote", action="store_true")
    tr.add_argument(
        "--verbose", action="store_true", help="also show MLflow's own output and warnings"
    )
    tr.set_defaults(handler=cmd_train)

    sc = sub.add_parser("score", help="score files offline into JSON lines")
    sc.add_argument("--data", type=Path, nargs="+", required=True)
    sc.add_argument("--out", type=Path, required=True)
    sc.add_argument("--model", help="models:/NAME@ALIAS (default: the champion)")
    sc.set_defaults(handler=cmd_score)

    sv = sub.add_parser("serve", help="run the scorer, the API and/or the webhook dispatcher")
    sv.add_argument("--role", choices=("all", "scorer", "api", "dispatcher", "optimizer"))
    sv.set_defaults(handler=cmd_serve)

    rp = sub.add_parser("replay", help="produce raw events from files into a Kafka topic")
    rp.add_argument("--data", type=Path, nargs="+", required=True)
    rp.add_argument("--topic", required=True)
    rp.set_defaults(handler=cmd_replay)

    md = sub.add_parser("models", help="registry aliases")
    md_sub = md.add_subparsers(dest="models_command", required=True)
    md_sub.add_parser("list")
    pr = md_sub.add_parser("promote")
    pr.add_argument("version")
    md_sub.add_parser("rollback")
    md.set_defaults(handler=cmd_models)

    rt = sub.add_parser(
        "retrain", help="train a challenger from the archive window with analysts' verdicts"
    )
    rt.add_argument(
        "--since",
        type=parse_since,
        help="archive from this day (YYYY-MM-DD) or the last N days (default: "
        "AUDITLENS_RETRAIN_WINDOW_DAYS)",
    )
    rt.add_argument("--benign-weight", type=int, default=3)
    rt.add_argument("--seed", type=int, default=0)
    rt.add_argument("--verbose", action="store_true", help="also show MLflow's own output")
    rt.set_defaults(handler=cmd_retrain)

    dr = sub.add_parser("drift", help="live drift against the training distribution")
    dr.add_argument("--version", help="a model version (default: the one scored most recently)")
    dr.add_argument("--window", default="1h", help="how far back: 15m, 1h, 24h, 7d (default 1h)")
    dr.add_argument("--top", type=int, default=15, help="features shown, largest PSI first")
    dr.set_defaults(handler=cmd_drift)

    rpt = sub.add_parser("report", help="every model version against its goals, over time")
    rpt.add_argument("--svg", type=Path, help="also write a plot of the figures across versions")
    rpt.set_defaults(handler=cmd_report)

    ks = sub.add_parser("keys", help="API keys")
    ks_sub = ks.add_subparsers(dest="keys_command", required=True)
    kc = ks_sub.add_parser("create", help="issue a key (shown once, on the last line)")
    kc.add_argument("--role", choices=("reader", "analyst", "admin"), required=True)
    kc.add_argument("--name", help="a label for people, e.g. the SIEM it is for")
    ks_sub.add_parser("list", help="every key: id, role, state (no secrets)")
    kr = ks_sub.add_parser("revoke", help="revoke a key by its id; it stops working at once")
    kr.add_argument("key_id")
    ks.set_defaults(handler=cmd_keys)
    return parser


# Exit codes: what went wrong, for scripts and operators (the README lists them).
EXIT_INPUT = 2  # the input, the arguments or the configuration: fix and run again
EXIT_UNAVAILABLE = 3  # a dependency did not answer: start it or point the setting at it
EXIT_BUG = 1  # anything else: a bug; --debug shows the traceback to report


def main(argv: list[str] | None = None) -> int:
    """Run one command; every error ends as one line on stderr and an exit code."""
    args = build_parser().parse_args(argv)
    settings: Settings | None = None
    try:
        settings = load_settings()
        if settings.log_level == "DEBUG":
            args.debug = True
        from service.dependencies import configure_clients

        configure_clients(settings)
        return int(args.handler(args, settings))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the one place every error is answered
        code, message = _explain(exc, settings)
        if args.debug:
            traceback.print_exception(exc, file=sys.stderr)
        print(f"auditlens: {message}", file=sys.stderr)
        return code


def _explain(exc: Exception, settings: Settings | None) -> tuple[int, str]:
    """The exit code and the one line for ``exc``."""
    from service.dependencies import as_unavailable
    from service.exceptions import DependencyUnavailableError

    if isinstance(exc, DependencyUnavailableError):
        return EXIT_UNAVAILABLE, str(exc)
    unavailable = as_unavailable(exc, settings) if settings is not None else None
    if unavailable is not None:
        return EXIT_UNAVAILABLE, str(unavailable)
    if isinstance(exc, (AuditlensServiceError, ModelError, TrainingError)):
        return EXIT_INPUT, str(exc)
    if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
        return EXIT_INPUT, f"{exc.strerror or exc}: {exc.filename}"
    first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return EXIT_BUG, (
        f"unexpected {type(exc).__name__}{': ' + first if first else ''} "
        "(a bug: run again with --debug and report the traceback)"
    )


if __name__ == "__main__":
    sys.exit(main())
