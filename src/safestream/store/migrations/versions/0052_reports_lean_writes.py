"""Reports: identifiers and events written with fewer structures to maintain (intake's insert).

Intake writes each report with its identifiers and events in one group commit; on PostgreSQL
three structures cost about a third of the database's CPU for it and guard nothing intake does
not:
- the foreign keys of `report_entities` and `events` to `reports`: a per-row trigger that reads
  and key-share locks the report row just inserted in the same statement batch. Reports are never
  deleted; `reports.case_id` and (from 0051) `case_entities.case_id` carry none either.
- `ix_report_entities_kind_value`: reads probe `ix_report_entities_value` (values are near-unique
  across kinds) and filter the kind.
Measured on 20,000 benchmark reports stored 20 to a transaction: PostgreSQL CPU 0.25 -> 0.17 ms
per report.

Revision ID: 0052_reports_lean_writes
Revises: 0051_cases_entities_lean_writes, 0012_reports_events (the events table)
"""

from alembic import op

revision = "0052_reports_lean_writes"
# Also joins the events branch, whose table it changes.
down_revision = ("0051_cases_entities_lean_writes", "0012_reports_events")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report_entities", schema=None) as batch_op:
        batch_op.drop_constraint("fk_report_entities_report_id_reports", type_="foreignkey")
        batch_op.drop_index("ix_report_entities_kind_value")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint("fk_events_report_id_reports", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_events_report_id_reports", "reports", ["report_id"], ["id"], ondelete="CASCADE"
        )
    with op.batch_alter_table("report_entities", schema=None) as batch_op:
        batch_op.create_index("ix_report_entities_kind_value", ["kind", "value"], unique=False)
        batch_op.create_foreign_key(
            "fk_report_entities_report_id_reports",
            "reports",
            ["report_id"],
            ["id"],
            ondelete="CASCADE",
        )
