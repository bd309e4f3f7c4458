"""Tests of the running service: scorer, store, API, console, webhooks and CLI."""
