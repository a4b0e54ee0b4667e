"""recurring perf: indexes for the chunked reads of recurring-payments and payment-reminders

Both jobs read ``WHERE <flag> = ? AND id > last ORDER BY id LIMIT chunk``; with only
(status, ...) indexes each chunk sorted every remaining row again (quadratic at a million).

Revision ID: 0004_recurring_perf
Revises: 0003_recurring
Create Date: 2026-11-30 08:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0004_recurring_perf'
down_revision: str | Sequence[str] | None = '0003_recurring'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('recurring_payments', schema=None) as batch_op:
        batch_op.create_index('nuk_recurring_payments_3', ['status', 'recurring_id'], unique=False)

    with op.batch_alter_table('check_payments', schema=None) as batch_op:
        batch_op.create_index('nuk_check_payments_9', ['reminded', 'payment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('check_payments', schema=None) as batch_op:
        batch_op.drop_index('nuk_check_payments_9')

    with op.batch_alter_table('recurring_payments', schema=None) as batch_op:
        batch_op.drop_index('nuk_recurring_payments_3')
