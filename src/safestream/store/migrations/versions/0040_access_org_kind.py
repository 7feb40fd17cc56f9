"""Access: what each organisation is (platform, operator, agency) and an agency's routing code.

Existing organisations become platforms, the kind trusted with least: after upgrading, mark the
hotline that runs the installation with `safestream org set-kind NAME operator` (see
docs/security.md). Until then its reviewers see no cases, which is safer than every organisation
seeing every case, as the first version allowed.

Revision ID: 0040_access_org_kind
Revises: 0011_reports_facts
"""

import sqlalchemy as sa
from alembic import op

revision = "0040_access_org_kind"
down_revision = "0011_reports_facts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="platform")
        )
        batch.add_column(sa.Column("agency_code", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("agency_code")
        batch.drop_column("kind")
