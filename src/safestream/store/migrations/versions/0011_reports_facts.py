"""Reports: per-report facts that triage and routing aggregate per case.

Revision ID: 0011_reports_facts
Revises: 0010_reports_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_reports_facts"
down_revision = "0010_reports_initial"
branch_labels = None
depends_on = None

COLUMNS = (
    ("live_now", sa.Boolean(), sa.false()),
    ("child_in_danger", sa.Boolean(), sa.false()),
    ("private_stream", sa.Boolean(), sa.false()),
    ("viewer_count", sa.Integer(), "0"),
    ("payment_count", sa.Integer(), "0"),
)


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        for name, kind, default in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=default))
        batch.add_column(sa.Column("platform_country", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("countries", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        for name in ("countries", "platform_country", *(c[0] for c in reversed(COLUMNS))):
            batch.drop_column(name)
