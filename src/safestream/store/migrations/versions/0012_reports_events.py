"""Reports: detection events stored with their reports; the case engine reads only these.

Reports stored before this revision and not yet linked get the events intake would have stored
with them (a received report, a panic press, its bank matches), so none of them is stranded.

Revision ID: 0012_reports_events
Revises: 0011_reports_facts
"""

import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op

from safestream.core.events import encode_event, submitted
from safestream.core.reports import ReportIn

revision = "0012_reports_events"
down_revision = "0011_reports_facts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    events = op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_events_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_report_id"), "events", ["report_id"], unique=False)
    op.create_index("ix_events_kind_report", "events", ["kind", "report_id"], unique=False)
    pending = op.get_bind().execute(
        sa.text("select id, body, received_at from reports where status = 'received'")
    )
    rows = []
    for report_id, body, received_at in pending:
        at = received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)
        for event in submitted(ReportIn.model_validate_json(body), at):
            kind, version, payload = encode_event(event)
            rows.append(
                {
                    "report_id": report_id,
                    "kind": kind,
                    "version": version,
                    "payload": json.dumps(payload),
                }
            )
    if rows:
        op.bulk_insert(events, rows)


def downgrade() -> None:
    op.drop_index("ix_events_kind_report", table_name="events")
    op.drop_index(op.f("ix_events_report_id"), table_name="events")
    op.drop_table("events")
