"""Live drift: per-scorer counts per model version and time bucket, and each version's
training reference.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drift_counts",
        sa.Column("model_name", sa.String(255), primary_key=True),
        sa.Column("model_version", sa.String(64), primary_key=True),
        sa.Column("bucket_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("instance", sa.String(255), primary_key=True),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("alerts", sa.BigInteger(), nullable=False),
        sa.Column("feature_counts", sa.JSON(), nullable=False),
        sa.Column("tail_counts", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_drift_counts_bucket_start", "drift_counts", ["bucket_start"])
    op.create_table(
        "drift_references",
        sa.Column("model_name", sa.String(255), primary_key=True),
        sa.Column("model_version", sa.String(64), primary_key=True),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("drift_references")
    op.drop_table("drift_counts")
