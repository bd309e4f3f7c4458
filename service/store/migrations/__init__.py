"""Alembic migrations of the store, applied by :func:`service.store.migrate.migrate`."""
