"""Tests of the source adapters, one module per source, and their shared contract."""
