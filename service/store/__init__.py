"""Durable storage (SQLAlchemy 2): SQLite (WAL) by default, PostgreSQL in production.

The schema comes from the Alembic migrations in ``migrations/`` (applied by
``Store.create_schema()``); :mod:`~service.store.repository` is the one entry
point, with one module per resource: anomalies and the feed cursor, triage,
suppressions, API keys, webhook endpoints, the webhook outbox and the scorers'
partition state.
"""
