"""Exchange: collections owned by organisations, grants made by the owner.

Revision ID: 0034_exchange_collection_owners
Revises: 0033_exchange_change_numbers
"""

import sqlalchemy as sa
from alembic import op

revision = "0034_exchange_collection_owners"
down_revision = "0033_exchange_change_numbers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_collections",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_exchange_collections_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_exchange_collections")),
    )
    op.create_index("ix_exchange_collections_org_id", "exchange_collections", ["org_id"])
    # Existing grants were made by the installation (org_id NULL) and keep their meaning.
    with op.batch_alter_table("exchange_grants") as batch:
        batch.add_column(sa.Column("org_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_exchange_grants_org_id_organisations", "organisations", ["org_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("exchange_grants") as batch:
        batch.drop_constraint("fk_exchange_grants_org_id_organisations", type_="foreignkey")
        batch.drop_column("org_id")
    op.drop_index("ix_exchange_collections_org_id", table_name="exchange_collections")
    op.drop_table("exchange_collections")
