"""When things happen: vectorised schedules for people, machines and pipelines.

* People work in **sessions** (a burst of a few commands) during their own
  office hours, in their team's time zone, mostly on weekdays; some days they
  are away, some days they work through the VPN.
* Controllers, operators and integrations act **periodically**, with a little
  jitter and the odd missed tick, around the clock.
* Pipelines run on **events** spread over the working day (merges, plans).

Every function samples a whole period at once with numpy and returns arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.synthetic.clock import DAY, HOUR, MINUTE, US, Period, weekday
from training.synthetic.org import Org
from training.synthetic.randomness import BoolArray, FloatArray, IntArray, group_ranks

WEEKEND_FACTOR = 0.06  # share of a weekday's sessions that happen on a weekend day
ABSENCE = 0.06  # chance that a person is away on a given working day


@dataclass(frozen=True)
class Sessions:
    """One row per working session of a person."""

    human: IntArray
    start: IntArray  # µs
    vpn: BoolArray

    def __len__(self) -> int:
        return len(self.human)

    def take(self, keep: BoolArray) -> Sessions:
        return Sessions(self.human[keep], self.start[keep], self.vpn[keep])


def human_sessions(
    rng: np.random.Generator, org: Org, period: Period, sessions_per_day: float
) -> Sessions:
    """Sessions of every person over the period, ``sessions_per_day`` on an average weekday.

    A new hire has no session before the test period.
    """
    humans = org.humans
    h = len(humans)
    local_days = np.arange(-1, period.days + 1)
    offsets = np.array([p.offset_min for p in humans], dtype=np.int64) * MINUTE
    midnight = period.start + local_days[None, :] * DAY - offsets[:, None]  # h x d, UTC µs
    weekend = weekday(period.start + local_days * DAY) >= 5
    activity = np.array([p.activity for p in humans])
    rate = sessions_per_day * activity[:, None] * np.where(weekend, WEEKEND_FACTOR, 1.0)[None, :]
    present = rng.random(rate.shape) > ABSENCE
    joins = np.array([p.joins for p in humans])
    counts = rng.poisson(rate * present)
    rows = np.repeat(np.arange(h * len(local_days)), counts.ravel())
    human = rows // len(local_days)
    day_start = midnight.ravel()[rows]
    is_weekend = weekend[rows % len(local_days)]
    hours = _session_hours(rng, human, is_weekend, org)
    start = day_start + (hours * HOUR).astype(np.int64)
    wfh = np.array([p.wfh for p in humans])
    vpn_day = rng.random(counts.shape) < wfh[:, None]
    shift, stretch = _hours_shift(org)
    vpn = vpn_day.ravel()[rows] | (hours < 8.0 + shift) | (hours >= 19.0 + shift + stretch)
    keep = (start >= period.start) & (start < period.end)
    keep &= ~joins[human] | (start >= period.test_start)
    sessions = Sessions(human[keep], start[keep], vpn[keep])
    if org.profile.new_hire_sessions:  # drawn last: the draws above stay as they are
        sessions = _concat(sessions, _onboarding(rng, org, period))
    order = np.argsort(sessions.start, kind="stable")
    return Sessions(sessions.human[order], sessions.start[order], sessions.vpn[order])


def _onboarding(rng: np.random.Generator, org: Org, period: Period) -> Sessions:
    """The new hire's sure sessions, from the office during their first test day's hours."""
    joiner = next(i for i, p in enumerate(org.humans) if p.joins)
    n = org.profile.new_hire_sessions
    start, length = org.profile.work_start, org.profile.day_hours
    local = (rng.uniform(start + 0.5, start + length - 0.5, n) * HOUR).astype(np.int64)
    utc = (local - org.humans[joiner].offset_min * MINUTE) % DAY  # within the first UTC day
    return Sessions(
        np.full(n, joiner, dtype=np.int64), period.test_start + utc, np.zeros(n, dtype=bool)
    )


def _concat(a: Sessions, b: Sessions) -> Sessions:
    return Sessions(
        np.concatenate([a.human, b.human]),
        np.concatenate([a.start, b.start]),
        np.concatenate([a.vpn, b.vpn]),
    )


def _hours_shift(org: Org) -> tuple[float, float]:
    """How far the profile moves the working day: ``(start - 9:00, length - 8.5 h)``.

    The day's shape (peaks, lunch, evening) is written for a 9:00 start of
    8.5 hours and moved by these; both are exactly zero for the default.
    """
    return org.profile.work_start - 9.0, org.profile.day_hours - 8.5


def _session_hours(
    rng: np.random.Generator, human: IntArray, is_weekend: BoolArray, org: Org
) -> FloatArray:
    """Local start hours: a morning and an afternoon peak around lunch, a rare evening."""
    n = len(human)
    shift, stretch = _hours_shift(org)
    start_hour = np.array([p.start_hour for p in org.humans])[human]
    end_hour = start_hour + np.array([p.day_hours for p in org.humans])[human]
    morning = np.clip(rng.normal(10.3 + shift, 1.0, n), start_hour, 12.2 + shift)
    afternoon = np.clip(
        rng.normal(15.0 + shift + stretch / 2, 1.6, n), 13.1 + shift, end_hour - 0.2
    )
    hours = np.where(rng.random(n) < 0.45, morning, afternoon)
    evening = rng.random(n) < 0.025
    late = shift + stretch
    hours = np.where(evening, rng.uniform(19.0 + late, 22.5 + late, n), hours)
    return np.where(is_weekend, rng.uniform(10.0 + shift, 18.0 + shift, n), hours)


def expand(
    rng: np.random.Generator, starts: IntArray, mean_events: float, mean_gap_s: float
) -> tuple[IntArray, IntArray]:
    """The individual calls of each session: ``(session index, time)`` per call.

    Session length is geometric (at least one call), gaps are exponential.

    >>> idx, t = expand(np.random.default_rng(0), np.array([0, 10**9]), 3.0, 1.0)
    >>> bool((np.diff(idx) >= 0).all()), bool((t[idx == 1] >= 10**9).all())
    (True, True)
    """
    counts = rng.geometric(1.0 / mean_events, len(starts)).astype(np.int64)
    session = np.repeat(np.arange(len(starts)), counts)
    gaps = rng.exponential(mean_gap_s * US, len(session)).astype(np.int64)
    gaps[np.cumsum(counts) - counts] = 0
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[np.cumsum(counts) - counts], counts)
    return session, starts[session] + elapsed


def periodic(
    rng: np.random.Generator,
    period_us: IntArray,
    start: int,
    end: int,
    phase_us: IntArray | None = None,
    jitter: float = 0.03,
    skip: float = 0.03,
) -> tuple[IntArray, IntArray]:
    """Ticks of many periodic tasks: ``(task index, time)`` per tick.

    Each task ticks every ``period_us[i]`` from a random (or given) phase, with
    ``jitter`` (a fraction of the period) and a ``skip`` chance per tick.

    >>> task, t = periodic(np.random.default_rng(0), np.array([10, 40]) * US, 0, 100 * US,
    ...                    jitter=0.0, skip=0.0)
    >>> int((task == 0).sum()), int((task == 1).sum())
    (10, 3)
    """
    period_us = np.maximum(period_us, US)
    if phase_us is None:
        phase_us = (rng.random(len(period_us)) * period_us).astype(np.int64)
    counts = np.maximum((end - start - phase_us + period_us - 1) // period_us, 0)
    task = np.repeat(np.arange(len(period_us)), counts)
    k = group_ranks(counts)
    noise = rng.normal(0.0, jitter, len(task)) * period_us[task]
    times = start + phase_us[task] + k * period_us[task] + noise.astype(np.int64)
    keep = (rng.random(len(task)) >= skip) & (times >= start) & (times < end)
    return task[keep], times[keep]


def working_events(
    rng: np.random.Generator,
    period: Period,
    offsets_min: IntArray,
    per_weekday: FloatArray,
    hours: tuple[float, float] = (9.5, 17.5),
) -> tuple[IntArray, IntArray]:
    """Events (merges, plans) of several groups during their working day, weekdays only.

    ``offsets_min`` and ``per_weekday`` have one entry per group; ``hours`` is
    the local span events fall in; returns ``(group index, time)`` per event.
    """
    days = np.arange(period.days)
    weekdays = weekday(period.start + days * DAY) < 5
    counts = rng.poisson(per_weekday[:, None] * weekdays[None, :])
    rows = np.repeat(np.arange(counts.size), counts.ravel())
    group, day = rows // len(days), rows % len(days)
    local = rng.uniform(hours[0], hours[1], len(rows))
    times = period.start + day * DAY - offsets_min[group] * MINUTE + (local * HOUR).astype(np.int64)
    keep = (times >= period.start) & (times < period.end)
    order = np.argsort(times[keep], kind="stable")
    return group[keep][order], times[keep][order]
