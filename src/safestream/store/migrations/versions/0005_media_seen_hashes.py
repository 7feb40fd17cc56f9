"""Media: hashes of recently seen content, for retroactive matching.

Revision ID: 0005_media_seen_hashes
Revises: 0004_media_bank_verified
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_media_seen_hashes"
down_revision = "0004_media_bank_verified"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_hashes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ref", sa.String(length=256), nullable=False),
        sa.Column("t", sa.Float(), nullable=True),
        sa.Column("pdq", sa.LargeBinary(length=32), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seen_hashes")),
    )
    op.create_index("ix_seen_hashes_seen_at", "seen_hashes", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_hashes_seen_at", table_name="seen_hashes")
    op.drop_table("seen_hashes")
