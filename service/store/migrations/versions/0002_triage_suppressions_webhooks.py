"""Triage, suppressions, webhooks (endpoints, outbox, deliveries), key management.

``anomalies.xact_id`` records the writing transaction on PostgreSQL
(``pg_current_xact_id()``) so the feed cursor can hold back rows of
transactions still in flight; rows stored before this revision get 0, and so
does every row on SQLite (one writer at a time: ids follow commit order).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CURRENT_XACT_ID = "(pg_current_xact_id()::text)::bigint"


def upgrade() -> None:
    op.create_table(
        "suppressions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(32), nullable=True),
        sa.Column("actor", sa.String(512), nullable=True),
        sa.Column("action", sa.String(256), nullable=True),
        sa.Column("resource", sa.String(512), nullable=True),
        sa.Column("namespace", sa.String(512), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
    )
    op.create_index("ix_suppressions_expires_at", "suppressions", ["expires_at"])

    with op.batch_alter_table("anomalies") as batch:
        batch.add_column(sa.Column("xact_id", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("verdict", sa.String(32), nullable=True))
        batch.add_column(sa.Column("assignee", sa.String(256), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("suppression_id", BigId, nullable=True))
        batch.create_foreign_key(
            "fk_anomalies_suppression_id",
            "suppressions",
            ["suppression_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_anomalies_xact_id_id", ["xact_id", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("anomalies", "xact_id", server_default=sa.text(CURRENT_XACT_ID))

    op.create_table(
        "anomaly_history",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "anomaly_id",
            BigId,
            sa.ForeignKey("anomalies.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(32), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
    )
    op.create_index("ix_anomaly_history_anomaly_id", "anomaly_history", ["anomaly_id"])

    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("name", sa.String(128), nullable=True))
        batch.add_column(sa.Column("created_by", sa.String(32), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "webhook_endpoints",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("description", sa.String(256), nullable=True),
        sa.Column("min_severity", sa.String(16), nullable=False),
        sa.Column("source", sa.String(32), nullable=True),
        sa.Column("namespace", sa.String(512), nullable=True),
        sa.Column("actor", sa.String(512), nullable=True),
        sa.Column("payload_format", sa.String(16), nullable=False),
        sa.Column("group_window_s", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "webhook_outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column(
            "endpoint_id",
            BigId,
            sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "anomaly_id",
            BigId,
            sa.ForeignKey("anomalies.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("anomaly_ids", sa.JSON(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index("ix_webhook_outbox_status_due_at", "webhook_outbox", ["status", "due_at"])
    op.create_index(
        "ix_webhook_outbox_group", "webhook_outbox", ["endpoint_id", "group_key", "status"]
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "outbox_id",
            BigId,
            sa.ForeignKey("webhook_outbox.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "endpoint_id",
            BigId,
            sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_id_id", "webhook_deliveries", ["endpoint_id", "id"]
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_outbox")
    op.drop_table("webhook_endpoints")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("created_by")
        batch.drop_column("name")
    op.drop_table("anomaly_history")
    with op.batch_alter_table("anomalies") as batch:
        batch.drop_index("ix_anomalies_xact_id_id")
        batch.drop_constraint("fk_anomalies_suppression_id", type_="foreignkey")
        for column in ("suppression_id", "updated_at", "assignee", "verdict", "xact_id"):
            batch.drop_column(column)
    op.drop_table("suppressions")
