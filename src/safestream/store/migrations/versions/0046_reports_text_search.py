"""Reports: full-text search over every text field of a report (names, ids, emails, description).

The words of a report are indexed when the linker files it into a case (`store.report_text`,
called from `finish_reports`), off the intake path, and only the JSON's string values are
indexed, so searching "platform" finds a report that says "platform", not every report.
PostgreSQL: table `report_text` of tsvectors (`simple` configuration: no stemming, no stop words,
the same for every language) under a GIN index. SQLite: an FTS5 table of the same string values.
Reports linked before this revision are indexed here.

Revision ID: 0046_reports_text_search
Revises: 0045_cases_match_time
"""

from alembic import op

revision = "0046_reports_text_search"
down_revision = "0045_cases_match_time"
branch_labels = None
depends_on = None

POSTGRES = [
    "create table report_text (report_id varchar(36) primary key"
    " references reports (id) on delete cascade, words tsvector not null)",
    "insert into report_text (report_id, words)"
    " select id, json_to_tsvector('simple', cast(body as json), '[\"string\"]') from reports"
    " where status = 'linked'",
    "create index ix_report_text_words on report_text using gin (words)",
]
SQLITE = [
    "create virtual table report_text using fts5("
    "report_id unindexed, text, tokenize = 'unicode61 remove_diacritics 2')",
    "insert into report_text (report_id, text) select id,"
    " (select group_concat(value, ' ') from json_tree(reports.body) where type = 'text')"
    " from reports where status = 'linked'",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES if dialect == "postgresql" else SQLITE if dialect == "sqlite" else []:
        op.execute(statement)


def downgrade() -> None:
    op.execute("drop table report_text")
