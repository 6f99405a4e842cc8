"""reminder scan: claims in their own narrow table, covering partial indexes of pending rows

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:00:00

Claiming used to rewrite each reminder row (status, claim_token, claimed_at) and move its
entry in the (status, due_at) index: one dirty table page per claimed row. A claim is now a
row of reminder_claims; the reminder stays 'pending' until it is sent, skipped or failed.
Rows claimed at upgrade time keep their claim (token and age), so recovery works as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PENDING_ONLY = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table('reminder_claims',
    sa.Column('reminder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('token', sa.String(length=36), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reminder_id'], ['reminders.id'], name=op.f('fk_reminder_claims_reminder_id_reminders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('reminder_id', name=op.f('pk_reminder_claims'))
    )
    op.execute(
        "INSERT INTO reminder_claims (reminder_id, token, claimed_at) "
        "SELECT id, claim_token, claimed_at FROM reminders WHERE status = 'claimed' "
        "AND claim_token IS NOT NULL AND claimed_at IS NOT NULL"
    )
    op.execute("UPDATE reminders SET status = 'pending' WHERE status = 'claimed'")

    op.drop_index('ix_reminders_due', table_name='reminders')
    op.create_index('ix_reminders_due', 'reminders', ['due_at', 'id', 'user_id', 'key_id', 'kind', 'stage', 'status'],
                    unique=False, sqlite_where=PENDING_ONLY, postgresql_where=PENDING_ONLY)
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), not a batch copy of the table:
    # a copy would drop the old table and, with foreign keys on, cascade to the claims.
    op.drop_column('reminders', 'claim_token')
    op.drop_column('reminders', 'claimed_at')


def downgrade() -> None:
    op.add_column('reminders', sa.Column('claim_token', sa.String(length=36), nullable=True))
    op.add_column('reminders', sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE reminders SET status = 'claimed', "
        "claim_token = (SELECT c.token FROM reminder_claims c WHERE c.reminder_id = reminders.id), "
        "claimed_at = (SELECT c.claimed_at FROM reminder_claims c WHERE c.reminder_id = reminders.id) "
        "WHERE status = 'pending' AND id IN (SELECT reminder_id FROM reminder_claims)"
    )
    op.drop_index('ix_reminders_due', table_name='reminders')
    op.create_index('ix_reminders_due', 'reminders', ['status', 'due_at'], unique=False)
    op.drop_table('reminder_claims')
