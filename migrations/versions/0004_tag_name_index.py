"""Tags are found by name alone: a bare query term matches the tag in any namespace

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_tag_name', 'tag', ['name'])


def downgrade():
    op.drop_index('ix_tag_name', table_name='tag')
