"""Cases: indexes for the review console at volume (one queue order across queues, id search).

Revision ID: 0042_cases_console_indexes
Revises: 0041_cases_entity_claims
"""

from alembic import op

revision = "0042_cases_console_indexes"
down_revision = "0041_cases_entity_claims"
branch_labels = None
depends_on = None

# Keyset pages walk (priority, created_at, id) within a status; searches look an identifier up by
# its value alone (a reviewer pastes an account or hash without saying which kind it is).
INDEXES = {
    "ix_cases_status_order": ("cases", ["status", "priority", "created_at", "id"]),
    "ix_case_entities_value": ("case_entities", ["value"]),
    "ix_report_entities_value": ("report_entities", ["value"]),
    "ix_case_matches_value": ("case_matches", ["value"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
