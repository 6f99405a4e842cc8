"""action claims (idempotency keys of button presses) and keys.last_used_at

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('action_claims',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_action_claims'))
    )
    with op.batch_alter_table('action_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_claims_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    # Until now the card showed last_activity_at as "last used"; keep that for keys touched
    # after they were added, and show nothing for keys nobody marked.
    op.execute("UPDATE keys SET last_used_at = last_activity_at WHERE last_activity_at > created_at")


def downgrade() -> None:
    with op.batch_alter_table('keys', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')

    with op.batch_alter_table('action_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_claims_created_at'))

    op.drop_table('action_claims')
