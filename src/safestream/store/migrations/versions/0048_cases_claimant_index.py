"""Cases: a partial index on the claimant, for the queue's claimed-by filter and its choices.

Revision ID: 0048_cases_claimant_index
Revises: 0047_cases_saved_views
"""

import sqlalchemy as sa
from alembic import op

revision = "0048_cases_claimant_index"
down_revision = "0047_cases_saved_views"
branch_labels = None
depends_on = None

CLAIMED = sa.text("claimed_by_user is not null")


def upgrade() -> None:
    op.create_index(
        "ix_cases_claimed_by_user",
        "cases",
        ["claimed_by_user"],
        postgresql_where=CLAIMED,
        sqlite_where=CLAIMED,
    )


def downgrade() -> None:
    op.drop_index("ix_cases_claimed_by_user", table_name="cases")
