"""Fingerprints remember the transaction that wrote them, so search indexes can follow changes

Each dhash and histogram row gets `written_xid` (xid8), set by a trigger on every insert and
update. A booru worker's in-memory similarity index polls for rows with
`written_xid >= <oldest transaction running at its previous poll>`: rows committed out of order
are still caught, and re-reading a few rows twice is harmless.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TABLES = ("dhash", "histogram")


def upgrade():
    op.execute("""
        CREATE FUNCTION fingerprint_written() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.written_xid := pg_current_xact_id();
            RETURN NEW;
        END $$""")
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ADD COLUMN written_xid xid8")
        op.execute(f"CREATE INDEX ix_{table}_written_xid ON {table} (written_xid)")
        op.execute(f"CREATE TRIGGER trg_{table}_written BEFORE INSERT OR UPDATE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION fingerprint_written()")


def downgrade():
    for table in TABLES:
        op.execute(f"DROP TRIGGER trg_{table}_written ON {table}")
        op.execute(f"DROP INDEX ix_{table}_written_xid")
        op.execute(f"ALTER TABLE {table} DROP COLUMN written_xid")
    op.execute("DROP FUNCTION fingerprint_written()")
