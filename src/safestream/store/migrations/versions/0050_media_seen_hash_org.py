"""Media: the organisation whose lookup or upload a seen hash came from.

Hashes platforms look up or have hashed over the API are kept for retroactive matching too, with
the calling organisation as their provenance (None for report attachments and live frames, whose
report or stream says where they came from).

Revision ID: 0050_media_seen_hash_org
Revises: 0005_media_seen_hashes
"""

import sqlalchemy as sa
from alembic import op

revision = "0050_media_seen_hash_org"
down_revision = "0005_media_seen_hashes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("seen_hashes", sa.Column("org_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("seen_hashes") as batch:
        batch.drop_column("org_id")
