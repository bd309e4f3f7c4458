"""The optimizer: shadow scoring, decisions about versions, and the optimizer's lease.

``drift_counts`` learns which rows are a challenger's shadow counts and what the
scoring cost (events that failed, CPU seconds), so the gate and the report read
both versions from the same rows.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("drift_counts") as batch:
        batch.add_column(
            sa.Column("shadow", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("errors", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("cpu_seconds", sa.Float(), nullable=False, server_default="0"))
    op.create_table(
        "shadow_anomalies",
        sa.Column("model_name", sa.String(255), primary_key=True),
        sa.Column("model_version", sa.String(64), primary_key=True),
        sa.Column("event_key", sa.String(600), primary_key=True),
        sa.Column("event_id", sa.String(512), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_shadow_anomalies_stored_at", "shadow_anomalies", ["stored_at"])
    op.create_table(
        "model_decisions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("model_name", sa.String(255), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(255), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_model_decisions_version", "model_decisions", ["model_name", "model_version"]
    )
    op.create_index("ix_model_decisions_decided_at", "model_decisions", ["decided_at"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_table("model_decisions")
    op.drop_table("shadow_anomalies")
    with op.batch_alter_table("drift_counts") as batch:
        batch.drop_column("cpu_seconds")
        batch.drop_column("errors")
        batch.drop_column("shadow")
