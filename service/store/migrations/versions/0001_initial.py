"""The first schema: anomalies and API keys.

Databases created before migrations existed hold exactly this schema; the
migration runner stamps them with this revision instead of creating it again.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "anomalies",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_key", sa.String(600), nullable=False),
        sa.Column("event_id", sa.String(512), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(512), nullable=True),
        sa.Column("actor_type", sa.String(64), nullable=True),
        sa.Column("action", sa.String(256), nullable=True),
        sa.Column("resource", sa.String(512), nullable=True),
        sa.Column("object", sa.String(512), nullable=True),
        sa.Column("namespace", sa.String(512), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("source_ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(1024), nullable=True),
        sa.Column("policy", sa.String(512), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("is_anomaly", sa.Boolean(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.UniqueConstraint("event_key"),
    )
    for column in ("source", "event_time", "actor", "namespace", "score", "severity", "status"):
        op.create_index(f"ix_anomalies_{column}", "anomalies", [column])
    op.create_index("ix_anomalies_stored_at_id", "anomalies", ["stored_at", "id"])
    op.create_table(
        "api_keys",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("key_id"),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("anomalies")
