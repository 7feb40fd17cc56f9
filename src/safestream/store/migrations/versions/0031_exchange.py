"""Signal exchange: shared signals, peers, grants, feedback and hits.

Revision ID: 0031_exchange
Revises: 0030_cybertip
"""

import sqlalchemy as sa
from alembic import op

revision = "0031_exchange"
down_revision = "0030_cybertip"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "exchange_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publisher", sa.String(length=32), nullable=False),
        sa.Column("collection", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("added_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("negative", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_signals")),
    )
    op.create_index(
        "ix_exchange_signals_entry",
        "exchange_signals",
        ["publisher", "collection", "kind", "value"],
        unique=True,
    )
    op.create_index(
        "ix_exchange_signals_changes", "exchange_signals", ["publisher", "seq"], unique=True
    )
    op.create_index("ix_exchange_signals_lookup", "exchange_signals", ["kind", "value"])
    op.create_table(
        "exchange_peers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.String(length=128), nullable=False),
        sa.Column("checkpoint", sa.BigInteger(), nullable=False),
        sa.Column("last_fetch_at", TZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("flood_limit", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_peers")),
        sa.UniqueConstraint("key_id", name=op.f("uq_exchange_peers_key_id")),
        sa.UniqueConstraint("name", name=op.f("uq_exchange_peers_name")),
    )
    op.create_table(
        "exchange_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(length=128), nullable=False),
        sa.Column("peer_key_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_grants")),
    )
    op.create_index(
        "ix_exchange_grants_pair", "exchange_grants", ["collection", "peer_key_id"], unique=True
    )
    op.create_table(
        "exchange_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=256), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["signal_id"],
            ["exchange_signals.id"],
            name=op.f("fk_exchange_feedback_signal_id_exchange_signals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_feedback")),
    )
    op.create_index(op.f("ix_exchange_feedback_signal_id"), "exchange_feedback", ["signal_id"])
    op.create_table(
        "exchange_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=128), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_hits")),
    )
    op.create_index("ix_exchange_hits_signal_at", "exchange_hits", ["signal_id", "at"])


def downgrade() -> None:
    for table in (
        "exchange_hits",
        "exchange_feedback",
        "exchange_grants",
        "exchange_peers",
        "exchange_signals",
    ):
        op.drop_table(table)
