"""Cases: where in the reported video a bank match was found (seconds), for the case page.

Revision ID: 0045_cases_match_time
Revises: 0044_access_panic_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0045_cases_match_time"
down_revision = "0044_access_panic_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Matches stored before this revision have no time: the case page shows them as unknown.
    with op.batch_alter_table("case_matches") as batch:
        batch.add_column(sa.Column("t", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_matches") as batch:
        batch.drop_column("t")
