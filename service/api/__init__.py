"""The HTTP API (FastAPI): a router per resource, wired in :mod:`service.api.app`."""
