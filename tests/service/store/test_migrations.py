"""The schema comes from the Alembic migrations, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from service.store.migrate import current_revision, downgrade, head_revision, migrate
from service.store.repository import AnomalyFilter, Store
from service.store.tables import Base
from tests.service.conftest import anomaly_row


def schema_differences(store: Store) -> list[object]:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_migrated_schema_matches_the_models(store: Store) -> None:
    assert current_revision(store.engine) == head_revision()
    assert schema_differences(store) == []
    # The comparison is not vacuous: a missing index shows up.
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_anomalies_xact_id_id")
    assert [d[0] for d in schema_differences(store)] == ["add_index"]  # type: ignore[index]


def test_downgrade_to_nothing_and_upgrade_again(store: Store) -> None:
    store.insert_anomalies([anomaly_row("a")])
    downgrade(store.engine, "base")
    assert set(sa.inspect(store.engine).get_table_names()) == {"alembic_version"}
    migrate(store.engine)
    assert schema_differences(store) == []
    assert store.count_anomalies() == 0


def test_a_database_from_before_migrations_is_adopted(store: Store) -> None:
    """Tables present, no version table: stamped as the first revision, then upgraded."""
    downgrade(store.engine, "0001")
    store.engine.dispose()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")
        conn.execute(
            sa.text(
                "INSERT INTO anomalies (event_key, event_id, source, event_time, stored_at, "
                "score, severity, is_anomaly, explanation, summary, model_name, model_version, "
                "status, raw) VALUES ('k8s_audit:old', 'old', 'k8s_audit', :t, :t, 70, 'high', "
                "true, '[]', 's', 'auditlens', '1', 'new', '{}')"
            ),
            {"t": "2026-03-02 10:00:00+00:00"},
        )
    store.create_schema()
    assert current_revision(store.engine) == head_revision()
    assert schema_differences(store) == []
    [kept] = store.list_anomalies(AnomalyFilter(), 10)[0]
    assert (kept.event_id, kept.xact_id, kept.status) == ("old", 0, "new")


def test_processes_racing_to_migrate_both_succeed(store: Store) -> None:
    downgrade(store.engine, "base")
    errors: list[BaseException] = []

    def open_store() -> None:
        other = Store(store.url)
        try:
            other.create_schema()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            other.close()

    threads = [threading.Thread(target=open_store) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert current_revision(store.engine) == head_revision()
