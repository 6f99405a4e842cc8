"""unanswered questions encrypted and grouped; learned phrasings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:00:00

The old unanswered_questions rows held anonymised text in clear. A migration has no data key to
encrypt them with, and they were only a 30-day view for /stats, so the table is recreated empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _drop_unanswered() -> None:
    with op.batch_alter_table("unanswered_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unanswered_questions_asked_at"))
    op.drop_table("unanswered_questions")


def upgrade() -> None:
    _drop_unanswered()
    op.create_table(
        "unanswered_questions",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("group_key", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unanswered_questions")),
    )
    with op.batch_alter_table("unanswered_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unanswered_questions_asked_at"), ["asked_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_unanswered_questions_group_key"), ["group_key"], unique=False
        )
    op.create_table(
        "learned_phrasings",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("text_index", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=True),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learned_phrasings")),
        sa.UniqueConstraint("text_index", name=op.f("uq_learned_phrasings_text_index")),
    )


def downgrade() -> None:
    op.drop_table("learned_phrasings")
    with op.batch_alter_table("unanswered_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unanswered_questions_group_key"))
    _drop_unanswered()
    op.create_table(
        "unanswered_questions",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unanswered_questions")),
    )
    with op.batch_alter_table("unanswered_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unanswered_questions_asked_at"), ["asked_at"], unique=False
        )
