"""Reports: a partial index of panic presses waiting to be linked, which the linker takes first.

During a burst the linker works a backlog oldest first; a press stored meanwhile waited behind
all of it (about half a minute on two slow cores after 60 s at 1,000 reports/s) before its case
formed and its urgent alert went out. Only pending presses are in this index, so intake pays for
it on presses alone.

Revision ID: 0053_reports_pending_presses
Revises: 0052_reports_lean_writes
"""

import sqlalchemy as sa
from alembic import op

revision = "0053_reports_pending_presses"
down_revision = "0052_reports_lean_writes"
branch_labels = None
depends_on = None

PENDING_PRESS = sa.text("status = 'received' and source = 'panic_button'")


def upgrade() -> None:
    op.create_index(
        "ix_reports_pending_presses",
        "reports",
        ["received_at"],
        postgresql_where=PENDING_PRESS,
        sqlite_where=PENDING_PRESS,
    )


def downgrade() -> None:
    op.drop_index("ix_reports_pending_presses", table_name="reports")
