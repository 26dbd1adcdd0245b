"""Agent accounts (console logins, presence) and handoff claim time and outcome.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agents')),
    sa.UniqueConstraint('username', name=op.f('uq_agents_username'))
    )
    with op.batch_alter_table('handoffs') as batch:
        batch.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('outcome', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('handoffs') as batch:
        batch.drop_column('outcome')
        batch.drop_column('claimed_at')
    op.drop_table('agents')
