"""Measurement scripts: speed and memory are measured here, never by timed tests."""
