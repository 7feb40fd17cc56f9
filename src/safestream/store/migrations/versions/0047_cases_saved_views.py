"""Cases: reviewers' saved queue views (a name and the queue's filter as a query string).

Revision ID: 0047_cases_saved_views
Revises: 0046_reports_text_search
"""

import sqlalchemy as sa
from alembic import op

revision = "0047_cases_saved_views"
down_revision = "0046_reports_text_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("query", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_saved_views_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
    )
    op.create_index("ix_saved_views_user_name", "saved_views", ["user_id", "name"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_saved_views_user_name", table_name="saved_views")
    op.drop_table("saved_views")
