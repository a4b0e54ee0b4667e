"""ach import: external ids of imported payments

Revision ID: 0003_ach_import
Revises: 0002_ach
Create Date: 2026-11-30 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.db

revision: str = '0003_ach_import'
down_revision: str | Sequence[str] | None = '0002_ach'
branch_labels: str | Sequence[str] | None = ('ach_import',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ach_imported_payments',
    sa.Column('payee_id', sa.BigInteger(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('payment_id', sa.BigInteger(), nullable=False),
    sa.Column('imported_at', store.db.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('payee_id', 'external_id', name=op.f('pk_ach_imported_payments'))
    )
    with op.batch_alter_table('ach_imported_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ach_imported_payments_payment_id'), ['payment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ach_imported_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ach_imported_payments_payment_id'))
    op.drop_table('ach_imported_payments')
