"""notification status: room for "undeliverable" (a send that retrying cannot fix)

Revision ID: 7d3e1f2a9b40
Revises: 1c29c7d10029
Create Date: 2026-11-27 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.db_types


# revision identifiers, used by Alembic.
revision = '7d3e1f2a9b40'
down_revision = '1c29c7d10029'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=12), type_=sa.String(length=20),
                              existing_nullable=False)


def downgrade():
    # The old code knows no "undeliverable": such emails go back to "failed" (retried) first.
    op.execute("UPDATE notification SET status = 'failed' WHERE status = 'undeliverable'")
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=20), type_=sa.String(length=12),
                              existing_nullable=False)
