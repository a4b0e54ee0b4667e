"""Recurring payments, bill summaries and payment reminders (seed 001 chapter 6) with seed 004 history.

Setups arrive from the customer portal through the ``setups`` channel; the
``recurring-payments`` job synchronizes them with the loaded bills (``bills``)
and schedules ``check_payments``. Like the ACH tables, every audited table has
a ``*_history`` twin sharing a column mixin, written explicitly in the same
transaction as the change.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, BigId, utcnow
from store.models.ach import _AuditColumns

#: seed 001: last_pay_date before the first payment, next_pay_date while no bill is known
NEVER_PAID = dt.date(1970, 1, 1)
NO_DUE_DATE = dt.date(3000, 1, 1)
#: seed 001: "only deactivated when the pay date is after the end date"
UNLIMITED = 2147483647


class AmountType(StrEnum):
    FIXED = "fixed"
    AMOUNT_DUE = "amount_due"
    MIN_DUE = "min_due"


class AmountLimit(StrEnum):
    LESS_THAN = "less_than"  #: pay the (minimum) amount due only if it is below ``amount``
    UP_TO = "up_to"  #: pay at most ``amount``; e-mail when the bill is over it


class PayDateType(StrEnum):
    WEEKLY = "weekly"  #: pay_day 1-7, 1 = Sunday
    MONTHLY = "monthly"  #: pay_day 1-31, past the month's end → its last day
    QUARTERLY = "quarterly"  #: pay_day 1-31 of every third month from the start date's month
    BEFORE_DUE = "before_due"  #: days_before_due days before the bill's due date


class RecurringStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"  #: ended (end date or max payments)
    CANCELLED = "cancelled"  #: cancelled by the customer (setups) or by the job (account cancelled)


class SummaryStatus(StrEnum):
    ACTIVE = "active"  #: synchronized, not yet scheduled
    SCHEDULED = "scheduled"  #: a payment was scheduled for it (or it was skipped)
    SUPERSEDED = "superseded"  #: replaced by a rebill before it was paid


class _RecurringColumns:
    setup_ref: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(40))
    payee_id: Mapped[int] = mapped_column(BigInteger)
    pid: Mapped[str] = mapped_column(String(40))
    #: the first (or only) biller account; all of them are in ``recurring_payment_accounts``
    payer_account_number: Mapped[str] = mapped_column(String(40))
    payer_email_addr: Mapped[str | None] = mapped_column(String(255))
    amount_type: Mapped[str] = mapped_column(String(12))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    amount_limit: Mapped[str | None] = mapped_column(String(12))
    pay_date_type: Mapped[str] = mapped_column(String(12))
    pay_day: Mapped[int | None] = mapped_column(Integer)
    days_before_due: Mapped[int | None] = mapped_column(Integer)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    max_num_payments: Mapped[int] = mapped_column(Integer, default=UNLIMITED)
    bill_scheduled: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(12), default=RecurringStatus.ACTIVE)
    last_process_time: Mapped[dt.datetime]
    last_pay_date: Mapped[dt.date] = mapped_column(Date, default=NEVER_PAID)
    next_pay_date: Mapped[dt.date] = mapped_column(Date)
    bill_id: Mapped[int | None] = mapped_column(BigInteger)
    payment_id: Mapped[int | None] = mapped_column(BigInteger)
    curr_num_payments: Mapped[int] = mapped_column(Integer, default=0)
    #: Y once the "recurring payment ended" notice is queued (it goes once)
    expiry_notified: Mapped[str] = mapped_column(String(1), default="N")
    create_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_modify_time: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RecurringPayment(_RecurringColumns, Base):
    __tablename__ = "recurring_payments"
    __table_args__ = (
        UniqueConstraint("setup_ref", name="uq_recurring_payments_setup_ref"),
        Index("nuk_recurring_payments_1", "status", "bill_scheduled", "next_pay_date"),
        Index("nuk_recurring_payments_2", "user_id"),
        #: recurring-payments reads the active setups in id order, chunk after chunk
        Index("nuk_recurring_payments_3", "status", "recurring_id"),
    )

    recurring_id: Mapped[BigId]


class RecurringPaymentHistory(_RecurringColumns, _AuditColumns, Base):
    __tablename__ = "recurring_payments_history"
    __table_args__ = (Index("nuk_recurring_payments_history_1", "recurring_id", "time_stamp"),)

    history_id: Mapped[BigId]
    recurring_id: Mapped[int] = mapped_column(BigInteger)


class RecurringPaymentAccount(Base):
    """The biller accounts one setup pays (seed 001 "Multiple Recurring Payment Feature")."""

    __tablename__ = "recurring_payment_accounts"
    __table_args__ = (
        UniqueConstraint("recurring_id", "payer_account_number", name="uq_recurring_payment_accounts_recurring_id"),
        Index("nuk_recurring_payment_accounts_1", "payer_account_number"),
    )

    id: Mapped[BigId]
    recurring_id: Mapped[int] = mapped_column(BigInteger)
    payer_account_number: Mapped[str] = mapped_column(String(40))


class _SummaryColumns:
    recurring_id: Mapped[int] = mapped_column(BigInteger)
    #: bills.bill_id (the eStatement doc id)
    doc_id: Mapped[str] = mapped_column(String(64))
    payer_account_number: Mapped[str] = mapped_column(String(64))
    doc_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount_due: Mapped[int] = mapped_column(BigInteger)
    min_amount_due: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default=SummaryStatus.ACTIVE)
    payment_id: Mapped[int | None] = mapped_column(BigInteger)
    create_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_modify_time: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PaymentBillSummary(_SummaryColumns, Base):
    __tablename__ = "payment_bill_summaries"
    __table_args__ = (Index("nuk_payment_bill_summaries_1", "recurring_id", "status"),)

    bill_id: Mapped[BigId]


class PaymentBillSummaryHistory(_SummaryColumns, _AuditColumns, Base):
    __tablename__ = "payment_bill_summaries_history"
    __table_args__ = (Index("nuk_payment_bill_summaries_history_1", "bill_id", "time_stamp"),)

    history_id: Mapped[BigId]
    bill_id: Mapped[int] = mapped_column(BigInteger)


class _ReminderColumns:
    setup_ref: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(40))
    payer_account_number: Mapped[str | None] = mapped_column(String(40))
    payer_email_addr: Mapped[str] = mapped_column(String(255))
    #: once, weekly, monthly, quarterly
    reminder_interval: Mapped[str] = mapped_column(String(12))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    next_reminder_date: Mapped[dt.date] = mapped_column(Date)
    reminded: Mapped[str] = mapped_column(String(1), default="N")
    memo: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(12), default=RecurringStatus.ACTIVE)
    create_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_modify_time: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PaymentReminder(_ReminderColumns, Base):
    __tablename__ = "payment_reminders"
    __table_args__ = (
        UniqueConstraint("setup_ref", name="uq_payment_reminders_setup_ref"),
        Index("nuk_payment_reminders_1", "status", "reminded", "next_reminder_date"),
    )

    reminder_id: Mapped[BigId]


class PaymentReminderHistory(_ReminderColumns, _AuditColumns, Base):
    __tablename__ = "payment_reminders_history"
    __table_args__ = (Index("nuk_payment_reminders_history_1", "reminder_id", "time_stamp"),)

    history_id: Mapped[BigId]
    reminder_id: Mapped[int] = mapped_column(BigInteger)


class PaymentEmailHistory(Base):
    """Audit of sent notices (seed 001 "Enable ... Notification Audit", seed 004 payment_email_history)."""

    __tablename__ = "payment_email_history"
    __table_args__ = (Index("nuk_payment_email_history_1", "ref_table", "ref_id"),)

    history_id: Mapped[BigId]
    notice_type: Mapped[str] = mapped_column(String(40))
    ref_table: Mapped[str] = mapped_column(String(40))
    ref_id: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(255))
    notification_id: Mapped[int | None] = mapped_column(BigInteger)
    content: Mapped[str | None] = mapped_column(String(2048))
    job_id: Mapped[int] = mapped_column(BigInteger, default=0)
    job_name: Mapped[str | None] = mapped_column(String(80))
    time_stamp: Mapped[dt.datetime] = mapped_column(default=utcnow)
