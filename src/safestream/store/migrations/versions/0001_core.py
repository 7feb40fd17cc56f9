"""Core root revision: every part's branch starts here.

Revision ID: 0001_core
Revises:
"""

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
