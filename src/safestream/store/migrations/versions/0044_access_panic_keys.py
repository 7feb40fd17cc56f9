"""Access: panic-button keys stored (hashed) per key, bound to origins and a stream-id namespace.

Keys of the first version were derived from the console secret and bound to nothing; they are
refused from this revision on: issue each organisation a key with `safestream panic-key create`.

Revision ID: 0044_access_panic_keys
Revises: 0043_access_console_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0044_access_panic_keys"
down_revision = "0043_access_console_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "panic_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("origins", sa.Text(), nullable=False),
        sa.Column("stream_prefix", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name="fk_panic_keys_org_id_organisations"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_panic_keys"),
        sa.UniqueConstraint("key_hash", name="uq_panic_keys_key_hash"),
    )
    op.create_index("ix_panic_keys_org_id", "panic_keys", ["org_id"])


def downgrade() -> None:
    op.drop_index("ix_panic_keys_org_id", table_name="panic_keys")
    op.drop_table("panic_keys")
