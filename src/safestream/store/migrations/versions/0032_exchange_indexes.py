"""Exchange: one unique index serves both upserts and lookups by (kind, value).

Revision ID: 0032_exchange_indexes
Revises: 0031_exchange
"""

from alembic import op

revision = "0032_exchange_indexes"
down_revision = "0031_exchange"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_exchange_signals_lookup", table_name="exchange_signals")
    op.drop_index("ix_exchange_signals_entry", table_name="exchange_signals")
    op.create_index(
        "ix_exchange_signals_entry",
        "exchange_signals",
        ["kind", "value", "publisher", "collection"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_exchange_signals_entry", table_name="exchange_signals")
    op.create_index(
        "ix_exchange_signals_entry",
        "exchange_signals",
        ["publisher", "collection", "kind", "value"],
        unique=True,
    )
    op.create_index("ix_exchange_signals_lookup", "exchange_signals", ["kind", "value"])
