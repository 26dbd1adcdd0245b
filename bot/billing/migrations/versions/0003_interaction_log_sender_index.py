"""Interaction log: index on (sender_id, created_at) for the verification lockout's lookup.

``verification_failures`` asks for one sender's failed attempts in the last hour on every
verification turn; without this index that was a scan of the whole log (1.2 ms at 2,300 rows, and
growing with every message ever logged).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from __future__ import annotations

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_interaction_log_sender_id_created_at', 'interaction_log', ['sender_id', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_interaction_log_sender_id_created_at', table_name='interaction_log')
