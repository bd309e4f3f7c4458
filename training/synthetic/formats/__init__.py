"""Writers of the real source formats: columns or records in, serialised JSON lines out.

One module per source, each turning the generator's description of what
happened into the exact shape that source emits (and that the project's
adapters in :mod:`features.sources` read).
"""
