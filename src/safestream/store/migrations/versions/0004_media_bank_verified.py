"""Media: whether a bank's contents are verified (the console shows its matches hash-first).

Revision ID: 0004_media_bank_verified
Revises: 0003_media_local_features
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_media_bank_verified"
down_revision = "0003_media_local_features"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing banks stay verified: that is what every match was treated as until now.
    with op.batch_alter_table("banks") as batch:
        batch.add_column(
            sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("banks") as batch:
        batch.drop_column("verified")
