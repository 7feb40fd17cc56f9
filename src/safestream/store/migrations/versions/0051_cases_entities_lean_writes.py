"""Cases: identifiers written with two fewer structures to maintain (the linker's hot insert).

The linker inserts every identifier a batch brings and moves every identifier of a merged case.
Two structures cost it most of that time on PostgreSQL and guard nothing the linker does not:
- the foreign key to `cases`: a per-row trigger that reads and key-share locks the case row, on
  every insert and on every row a merge moves. Cases are never deleted, and the linker writes only
  case ids it read or opened in the same transaction, under its lock; `reports.case_id` has never
  had one for the same reason.
- `ix_case_entities_kind_value`: the holders query probes `ix_case_entities_value` (identifier
  values are near-unique across kinds) and filters the kind.
Measured on 20,000 benchmark reports linked in batches of 1,000: the insert 2.9 -> 0.9 s and the
merge moves 2.6 -> 1.0 s in all.

Revision ID: 0051_cases_entities_lean_writes
Revises: 0049_access_login_attempts
"""

from alembic import op

revision = "0051_cases_entities_lean_writes"
down_revision = "0049_access_login_attempts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_entities", schema=None) as batch_op:
        batch_op.drop_constraint("fk_case_entities_case_id_cases", type_="foreignkey")
        batch_op.drop_index("ix_case_entities_kind_value")


def downgrade() -> None:
    with op.batch_alter_table("case_entities", schema=None) as batch_op:
        batch_op.create_index("ix_case_entities_kind_value", ["kind", "value"], unique=False)
        batch_op.create_foreign_key(
            "fk_case_entities_case_id_cases", "cases", ["case_id"], ["id"], ondelete="CASCADE"
        )
