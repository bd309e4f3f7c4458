"""The analyst console at ``/ui``: server-rendered pages over the same store, keys and roles."""
