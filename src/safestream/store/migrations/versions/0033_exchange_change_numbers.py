"""Exchange: our last change number in a row of its own, claimed under that row's lock.

Revision ID: 0033_exchange_change_numbers
Revises: 0032_exchange_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0033_exchange_change_numbers"
down_revision = "0032_exchange_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_change_numbers",
        sa.Column("publisher", sa.String(length=32), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("publisher", name=op.f("pk_exchange_change_numbers")),
    )
    # Carry on from the numbers already given, so no change is numbered twice.
    op.execute(
        "INSERT INTO exchange_change_numbers (publisher, last_seq) "
        "SELECT 'local', MAX(seq) FROM exchange_signals WHERE publisher = 'local' "
        "HAVING COUNT(*) > 0"
    )


def downgrade() -> None:
    op.drop_table("exchange_change_numbers")
