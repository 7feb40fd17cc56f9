"""Media: hash banks and entries.

Revision ID: 0002_media_banks
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_media_banks"
down_revision = "0001_core"
branch_labels = ("media",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("negative", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("threshold", sa.Integer(), nullable=False, server_default="31"),
        sa.Column("source", sa.String(256), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_banks"),
        sa.UniqueConstraint("name", name="uq_banks_name"),
    )
    op.create_table(
        "bank_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("signal_type", sa.String(16), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("label", sa.String(32), nullable=False, server_default="unclassified"),
        sa.Column("source", sa.String(256), nullable=False, server_default=""),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("content_id", sa.String(64), nullable=True),
        sa.Column("t", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["banks.id"], name="fk_bank_entries_bank_id_banks", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_bank_entries"),
    )
    op.create_index(
        "ix_bank_entries_bank_signal_value",
        "bank_entries",
        ["bank_id", "signal_type", "value"],
        unique=True,
    )
    op.create_index("ix_bank_entries_signal_value", "bank_entries", ["signal_type", "value"])
    op.create_index("ix_bank_entries_content_id", "bank_entries", ["content_id"])
    op.create_table(
        "bank_changes",
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("signal_type", sa.String(16), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_bank_changes"),
    )


def downgrade() -> None:
    op.drop_table("bank_changes")
    op.drop_table("bank_entries")
    op.drop_table("banks")
