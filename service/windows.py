"""Time windows as people write them (``15m``, ``1h``, ``7d``): a module of its own so that
settings can validate one without importing the drift machinery."""

from __future__ import annotations


def parse_window(name: str) -> int:
    """A window such as ``15m``, ``1h``, ``24h`` or ``7d`` in seconds.

    >>> parse_window("90m"), parse_window("24h"), parse_window("7d")
    (5400, 86400, 604800)
    """
    units = {"m": 60, "h": 3600, "d": 86400}
    number, unit = name[:-1], name[-1:]
    if unit not in units or not number.isdigit() or int(number) == 0:
        raise ValueError(f"window {name!r}: a whole number of minutes, hours or days (15m, 1h, 7d)")
    return int(number) * units[unit]
