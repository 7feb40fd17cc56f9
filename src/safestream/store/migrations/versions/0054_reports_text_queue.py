"""Reports: a queue of linked reports whose words wait to be indexed for search.

Indexing words (`json_to_tsvector` and the GIN index on PostgreSQL, FTS5 on SQLite) was about a
quarter of the linker's database time inside every linking batch. While it works a backlog, the
linker now queues the batch's report ids here and indexes them once it has caught up; linking a
named report (a panic press, a detector's report) still indexes it at once.

Revision ID: 0054_reports_text_queue
Revises: 0053_reports_pending_presses
"""

import sqlalchemy as sa
from alembic import op

revision = "0054_reports_text_queue"
down_revision = "0053_reports_pending_presses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_text_queue",
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_report_text_queue")),
    )


def downgrade() -> None:
    op.drop_table("report_text_queue")
