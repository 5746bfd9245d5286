"""Region dhashes for the visual search

`region_dhash` holds, per image, the dhashes of the windows of its thumbnail's content box
(common.regions): 8 windows × 3 words, as bigints. Like `dhash` and `histogram` (migration 0002)
each row gets `written_xid` from the `fingerprint_written` trigger, so a booru process's region
index follows new and rewritten rows. Existing images get theirs when Coco upgrades them to
fingerprint version 2 (from their stored thumbnails).

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('region_dhash',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('dhashes', postgresql.ARRAY(sa.BigInteger()), nullable=False),
    sa.ForeignKeyConstraint(['id'], ['image.id'], name=op.f('fk_region_dhash_id_image'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_region_dhash'))
    )
    op.execute("ALTER TABLE region_dhash ADD COLUMN written_xid xid8")
    op.execute("CREATE INDEX ix_region_dhash_written_xid ON region_dhash (written_xid)")
    op.execute("CREATE TRIGGER trg_region_dhash_written BEFORE INSERT OR UPDATE ON region_dhash "
               "FOR EACH ROW EXECUTE FUNCTION fingerprint_written()")


def downgrade():
    op.drop_table('region_dhash')
