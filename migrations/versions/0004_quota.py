"""Per-key quotas: one token bucket per principal and kind, shared by every booru worker and instance

UNLOGGED: not written to the WAL (every request of a quota'd key updates a row); after a crash
the table is empty, which only gives every principal a full bucket again.

Revision ID: 0004
Revises: 0002
"""
from alembic import op

revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
        CREATE UNLOGGED TABLE quota_bucket (
            principal varchar(80) NOT NULL,
            kind varchar(16) NOT NULL,
            tokens double precision NOT NULL,
            updated timestamp with time zone NOT NULL,
            CONSTRAINT pk_quota_bucket PRIMARY KEY (principal, kind))""")


def downgrade():
    op.execute("DROP TABLE quota_bucket")
