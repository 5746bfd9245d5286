"""Thumbnails, and the fingerprint version of each image for background re-fingerprinting

`thumbnail` holds Coco's small JPEG of an image. `image.fingerprint_version` says how its
fingerprints were computed (images already fingerprinted: 1); Coco re-fingerprints images below
the current version in the background, leasing them through `upgrade_lease` (the image stays
`encoded` and searchable meanwhile) and not before `upgrade_available_at`.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('thumbnail',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['id'], ['image.id'], name=op.f('fk_thumbnail_id_image'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thumbnail'))
    )
    op.add_column('image', sa.Column('fingerprint_version', sa.SmallInteger(), nullable=True))
    op.add_column('image', sa.Column('upgrade_lease', postgresql.UUID(as_uuid=False), nullable=True))
    op.add_column('image', sa.Column('upgrade_available_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE image SET fingerprint_version = 1 WHERE state = 'encoded'")
    op.create_index('ix_image_fingerprint_version', 'image', ['fingerprint_version', 'id'], unique=False,
                    postgresql_where=sa.text("state = 'encoded'"))


def downgrade():
    op.drop_index('ix_image_fingerprint_version', table_name='image', postgresql_where=sa.text("state = 'encoded'"))
    op.drop_column('image', 'upgrade_available_at')
    op.drop_column('image', 'upgrade_lease')
    op.drop_column('image', 'fingerprint_version')
    op.drop_table('thumbnail')
