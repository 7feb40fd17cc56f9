"""Cases: organisations' claims on identifiers (deconfliction recorded as the claimant's word).

Revision ID: 0041_cases_entity_claims
Revises: 0040_access_org_kind
"""

import sqlalchemy as sa
from alembic import op

revision = "0041_cases_entity_claims"
down_revision = "0040_access_org_kind"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entity_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("reference", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_entity_claims_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_claims")),
    )
    op.create_index("ix_entity_claims_kind_value", "entity_claims", ["kind", "value"])
    op.create_index(op.f("ix_entity_claims_org_id"), "entity_claims", ["org_id"])


def downgrade() -> None:
    op.drop_table("entity_claims")
