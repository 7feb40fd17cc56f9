"""Media: bank kinds (media or room) and the local features of second-stage bank entries.

Revision ID: 0003_media_local_features
Revises: 0002_media_banks
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_media_local_features"
down_revision = "0002_media_banks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("banks") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="media"))
    op.create_table(
        "bank_features",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["bank_entries.id"],
            name="fk_bank_features_entry_id_bank_entries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name="pk_bank_features"),
    )


def downgrade() -> None:
    op.drop_table("bank_features")
    with op.batch_alter_table("banks") as batch:
        batch.drop_column("kind")
