"""Access: login attempts counted in the store, so every server process throttles alike.

Before this revision each worker process counted failed logins on its own, so `serve --workers N`
gave an attacker N times the attempts.

Revision ID: 0049_access_login_attempts
Revises: 0048_cases_claimant_index
"""

import sqlalchemy as sa
from alembic import op

revision = "0049_access_login_attempts"
down_revision = "0048_cases_claimant_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_attempted_at", "login_attempts", ["attempted_at"])
    op.create_index(
        "ix_login_attempts_key_hash_attempted_at", "login_attempts", ["key_hash", "attempted_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_login_attempts_key_hash_attempted_at", table_name="login_attempts")
    op.drop_index("ix_login_attempts_attempted_at", table_name="login_attempts")
    op.drop_table("login_attempts")
