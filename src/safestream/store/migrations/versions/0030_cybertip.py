"""CyberTipline submissions and their uploaded files.

Revision ID: 0030_cybertip
Revises: 0011_reports_facts
"""

import sqlalchemy as sa
from alembic import op

revision = "0030_cybertip"
down_revision = "0011_reports_facts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cybertip_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=600), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("report_ids", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("ncmec_report_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cybertip_submissions")),
    )
    op.create_index(
        "ix_cybertip_submissions_case", "cybertip_submissions", ["case_id", "environment"]
    )
    op.create_table(
        "cybertip_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.String(length=36), nullable=False),
        sa.Column("file_id", sa.String(length=128), nullable=True),
        sa.Column("md5", sa.String(length=32), nullable=True),
        sa.Column("details_sent", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["cybertip_submissions.id"],
            name=op.f("fk_cybertip_files_submission_id_cybertip_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cybertip_files")),
    )
    op.create_index(op.f("ix_cybertip_files_submission_id"), "cybertip_files", ["submission_id"])


def downgrade() -> None:
    op.drop_table("cybertip_files")
    op.drop_table("cybertip_submissions")
