"""Initial schema: the seed's six tables plus states, leases, tags and API keys

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 05:42:53.693960

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'greg', 'parsa', 'coco', 'reader')", name=op.f('ck_api_key_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('digest', name=op.f('uq_api_key_digest'))
    )
    op.create_table('subreddit',
    sa.Column('name', sa.String(length=21), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=True),
    sa.Column('backfilled_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_polled', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_subreddit'))
    )
    op.create_table('tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('namespace', sa.String(length=32), server_default='', nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag')),
    sa.UniqueConstraint('namespace', 'name', name=op.f('uq_tag_namespace_name'))
    )
    op.create_table('submission',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('author', sa.String(length=20), nullable=True),
    sa.Column('subreddit', sa.String(length=21), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('flair', sa.String(length=64), nullable=True),
    sa.Column('nsfw', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('removed', sa.String(length=32), nullable=True),
    sa.Column('crosspost_parent', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['subreddit'], ['subreddit.name'], name=op.f('fk_submission_subreddit_subreddit'), onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission'))
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index('ix_submission_author', ['author'], unique=False)
        batch_op.create_index('ix_submission_subreddit_created', ['subreddit', 'created'], unique=False)

    op.create_table('image',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('submission_id', sa.String(length=16), nullable=False),
    sa.Column('position', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('md5', sa.String(length=32), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('bytes', sa.BigInteger(), nullable=True),
    sa.Column('mime', sa.String(length=32), nullable=True),
    sa.Column('source_url', sa.Text(), nullable=True),
    sa.Column('posted', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=12), server_default='pending', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('lease', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('lease_expires', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tries', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("state IN ('pending', 'claimed', 'encoded', 'failed')", name=op.f('ck_image_state')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_image_submission_id_submission'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image')),
    sa.UniqueConstraint('submission_id', 'url', name=op.f('uq_image_submission_id_url'))
    )
    with op.batch_alter_table('image', schema=None) as batch_op:
        batch_op.create_index('ix_image_claimable', ['available_at'], unique=False, postgresql_where=sa.text("state IN ('pending', 'claimed')"))
        batch_op.create_index('ix_image_md5', ['md5'], unique=False)
        batch_op.create_index('ix_image_sha256', ['sha256'], unique=False)
        batch_op.create_index('ix_image_state', ['state'], unique=False)
        batch_op.create_index('ix_image_url', ['url'], unique=False)

    op.create_table('link',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=True),
    sa.Column('last_visited', sa.DateTime(timezone=True), nullable=True),
    sa.Column('priority', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('state', sa.String(length=12), server_default='pending', nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('lease', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('lease_expires', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tries', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("state IN ('pending', 'claimed', 'done', 'failed', 'dead', 'unsupported')", name=op.f('ck_link_state')),
    sa.CheckConstraint("type IN ('reddit', 'imgur', 'booru', 'generic')", name=op.f('ck_link_type')),
    sa.ForeignKeyConstraint(['id'], ['submission.id'], name=op.f('fk_link_id_submission'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link'))
    )
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.create_index('ix_link_claimable', ['type', 'priority', 'available_at'], unique=False, postgresql_where=sa.text("state IN ('pending', 'failed', 'claimed')"))
        batch_op.create_index('ix_link_state', ['state'], unique=False)

    op.create_table('dhash',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('red', postgresql.BIT(length=64), nullable=False),
    sa.Column('green', postgresql.BIT(length=64), nullable=False),
    sa.Column('blue', postgresql.BIT(length=64), nullable=False),
    sa.ForeignKeyConstraint(['id'], ['image.id'], name=op.f('fk_dhash_id_image'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dhash'))
    )
    op.create_table('histogram',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('red', sa.ARRAY(sa.Integer()), nullable=False),
    sa.Column('green', sa.ARRAY(sa.Integer()), nullable=False),
    sa.Column('blue', sa.ARRAY(sa.Integer()), nullable=False),
    sa.ForeignKeyConstraint(['id'], ['image.id'], name=op.f('fk_histogram_id_image'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_histogram'))
    )
    op.create_table('image_tag',
    sa.Column('image_id', sa.BigInteger(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['image.id'], name=op.f('fk_image_tag_image_id_image'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_image_tag_tag_id_tag'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('image_id', 'tag_id', name=op.f('pk_image_tag'))
    )
    with op.batch_alter_table('image_tag', schema=None) as batch_op:
        batch_op.create_index('ix_image_tag_tag_id', ['tag_id', 'image_id'], unique=False)



def downgrade():
    with op.batch_alter_table('image_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_image_tag_tag_id')

    op.drop_table('image_tag')
    op.drop_table('histogram')
    op.drop_table('dhash')
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.drop_index('ix_link_state')
        batch_op.drop_index('ix_link_claimable', postgresql_where=sa.text("state IN ('pending', 'failed', 'claimed')"))

    op.drop_table('link')
    with op.batch_alter_table('image', schema=None) as batch_op:
        batch_op.drop_index('ix_image_url')
        batch_op.drop_index('ix_image_state')
        batch_op.drop_index('ix_image_sha256')
        batch_op.drop_index('ix_image_md5')
        batch_op.drop_index('ix_image_claimable', postgresql_where=sa.text("state IN ('pending', 'claimed')"))

    op.drop_table('image')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_subreddit_created')
        batch_op.drop_index('ix_submission_author')

    op.drop_table('submission')
    op.drop_table('tag')
    op.drop_table('subreddit')
    op.drop_table('api_key')
