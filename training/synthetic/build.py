"""``generate``: build the organisation, its normal life, its rare episodes and its attacks,
and write them out.

Outputs in the target folder:

* ``train.jsonl``: normal behaviour of the training period (rare legitimate
  episodes included, unlabelled: they are part of a real history);
* ``test.jsonl``: the test period, normal behaviour plus benign episodes plus
  attacks (plus spliced Stratus detonations), in time order;
* ``labels.csv``: ``event_id,scenario`` for every attack event;
* ``benign.csv``: ``event_id,scenario`` for the test period's legitimate rare
  events (``benign:<kind>``), kept apart from the attacks.
"""

from __future__ import annotations

import logging
from pathlib import Path

from training.synthetic import attacks, benign, normal
from training.synthetic.batch import Batch, merge, split
from training.synthetic.clock import Period
from training.synthetic.emitter import Emitter
from training.synthetic.inventory import Inventory
from training.synthetic.org import build_org
from training.synthetic.profile import GeneratorProfile, resolve
from training.synthetic.randomness import stream
from training.synthetic.scenario import Context
from training.synthetic.stratus import splice

log = logging.getLogger(__name__)
BENIGN_PREFIX = "benign:"


def _write_lines(path: Path, lines: list[bytes], chunk: int = 65_536) -> None:
    """One line per event, written in chunks (no second copy of the whole file in memory)."""
    with path.open("wb") as f:
        for start in range(0, len(lines), chunk):
            f.write(b"\n".join(lines[start : start + chunk]) + b"\n")


def generate(
    out: Path,
    seed: int = 7,
    days: int = 14,
    events_per_day: int = 4000,
    stratus: Path | None = None,
    profile: GeneratorProfile | str = "default",
) -> dict[str, int]:
    """Write the synthetic environment into ``out``; returns line and label counts.

    ``days`` (at least 2) is the whole span, the last quarter of it the test
    period; ``events_per_day`` is the average number of normal lines a day;
    ``stratus`` is a folder of Stratus Red Team detonation logs to splice in;
    ``profile`` (one of :data:`training.synthetic.PROFILES` or its name) shapes
    the organisation: ``default`` is the one the models were developed on.
    """
    # Labels are named by the project's own adapters; imported here so that listing
    # profiles (the command line's help) does not load the feature pipeline.
    from training.synthetic.labels import collect

    shape = resolve(profile)
    if days < 2:
        raise ValueError("days must be at least 2 (a training and a test period)")
    if events_per_day < 1:
        raise ValueError("events_per_day must be positive")
    period = Period.of(days)
    org = build_org(stream(seed, "org"), shape)
    inventory = Inventory(stream(seed, "inventory"), org, period.start, period.days)
    emit = Emitter(stream(seed, "ids"), org)
    ctx = Context(org, inventory, period, stream(seed, "scenarios"), emit)

    attack_batches = attacks.inject(ctx)
    episodes_train, episodes_test = benign.episodes(ctx)
    spliced: list[Batch] = []
    if stratus is not None:
        stratus_ctx = Context(org, inventory, period, stream(seed, "stratus"), emit)
        spliced = splice(stratus_ctx, stratus)
    everyday = normal.behaviour(seed, org, inventory, period, emit, events_per_day, ctx.findings)

    train: list[Batch] = []
    test: list[Batch] = []
    for batch in everyday + episodes_train:
        if batch.label is not None:  # a finding's scan lines or the new hire: test period only
            test.append(batch)
            continue
        before, after = split(batch, period.test_start)
        train.append(before)
        test.append(after)
    labelled = attack_batches + spliced
    test += episodes_test + labelled

    out.mkdir(parents=True, exist_ok=True)
    train_lines = merge(train)
    test_lines = merge(test)
    _write_lines(out / "train.jsonl", train_lines)
    _write_lines(out / "test.jsonl", test_lines)
    everything = collect([b for b in test if b.label is not None])
    attack_rows = [r for r in everything.rows if not r[1].startswith(BENIGN_PREFIX)]
    benign_rows = [r for r in everything.rows if r[1].startswith(BENIGN_PREFIX)]
    everything.rows = attack_rows
    everything.write(out / "labels.csv")
    everything.rows = benign_rows
    everything.write(out / "benign.csv")
    return {
        "train": len(train_lines),
        "test": len(test_lines),
        "attacks": len(attack_rows),
        "benign": len(benign_rows),
        "stratus": sum(len(b) for b in spliced),
        "unlabelled": sum(everything.unlabelled.values()),
    }
