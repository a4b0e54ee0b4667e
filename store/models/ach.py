"""Check payment tables (seed 001 "ePayment Manager Database") and their audit history (seed 004).

Each audited table has a ``*_history`` twin with every base column plus the
seed 004 audit columns; the base columns live in a mixin so the two can never
drift apart. History rows are written explicitly in the same transaction as the
change (``handlers.ach.audit``), never by triggers, so the job name and run id
travel with them.
"""

from __future__ import annotations

import datetime as dt
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, BigId, utcnow


class CheckStatus(IntEnum):
    """check_payments.status (seed 001, SPEC §4)."""

    SCHEDULED = 6
    PROCESSED = 7
    PAID = 8
    CANCELLED = 9
    FAILED = -1
    RETURNED = -4
    NOC_RETURNED = -5
    PRENOTE_PROCESSED = 17
    PRENOTE_RETURNED = -14


class AccountStatus(StrEnum):
    PND_ACTIVE = "pnd_active"
    PND_WAIT = "pnd_wait"
    ACTIVE = "active"
    BAD_ACTIVE = "bad_active"
    INACTIVE = "inactive"


class AuditOp(IntEnum):
    """Seed 004 audit_operation."""

    CREATE = 1001
    UPDATE = 1002
    DELETE = 1003


#: audit_status for a successful operation (seed 004)
AUDIT_OK = 1


class PaymentPayee(Base):
    """A payee (DDN): its gateway and gateway settings (validated by handlers.ach.settings)."""

    __tablename__ = "payment_payees"

    payee_id: Mapped[BigId]
    name: Mapped[str] = mapped_column(String(18), unique=True)
    gateway: Mapped[str] = mapped_column(String(16), default="ach")
    settings: Mapped[dict[str, Any] | None]
    create_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_modify_time: Mapped[dt.datetime] = mapped_column(default=utcnow)


class _CheckPaymentColumns:
    last_modify_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    create_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    needs_backup: Mapped[str] = mapped_column(String(1), default="N")
    bill_id: Mapped[str | None] = mapped_column(String(255))
    payee_id: Mapped[int] = mapped_column(BigInteger)
    payer_id: Mapped[str] = mapped_column(String(40))
    pay_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[int] = mapped_column(Integer)
    routing_transit: Mapped[str] = mapped_column(String(9))
    account_name: Mapped[str] = mapped_column(String(40))
    check_account_number: Mapped[str] = mapped_column(String(255))
    amount: Mapped[int] = mapped_column(BigInteger)
    txn_timestamp_1: Mapped[dt.datetime | None]
    txn_timestamp_2: Mapped[dt.datetime | None]
    partition_id: Mapped[int] = mapped_column(Integer, default=0)
    txn_status: Mapped[str | None] = mapped_column(String(20))
    txn_fee: Mapped[int | None] = mapped_column(BigInteger)
    reminded: Mapped[str] = mapped_column(String(1), default="N")
    txn_err_msg: Mapped[str | None] = mapped_column(String(255))
    txn_number: Mapped[str | None] = mapped_column(String(40))
    payer_account_number: Mapped[str | None] = mapped_column(String(40))
    memo: Mapped[str | None] = mapped_column(String(255))
    account_type: Mapped[str] = mapped_column(String(10), default="checking")
    check_usage: Mapped[str | None] = mapped_column(String(10))
    check_number: Mapped[int | None] = mapped_column(BigInteger)
    action_code: Mapped[str | None] = mapped_column(String(20))
    log_id: Mapped[int | None] = mapped_column(BigInteger)
    gateway_payment_id: Mapped[str | None] = mapped_column(String(255))
    txn_start_date: Mapped[dt.date | None] = mapped_column(Date)
    txn_end_date: Mapped[dt.date | None] = mapped_column(Date)
    payment_source: Mapped[str] = mapped_column(String(1), default="S")
    flexible_field_1: Mapped[str | None] = mapped_column(String(255))
    flexible_field_2: Mapped[str | None] = mapped_column(String(255))
    flexible_field_3: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[str | None] = mapped_column(String(255))
    line_item_id: Mapped[str | None] = mapped_column(String(255))
    #: a risk-limit hold (ach_suspended_batches.id); not a seed column
    hold_id: Mapped[int | None] = mapped_column(BigInteger)
    #: the payer asked for same-day settlement (handlers.ach.windows); not a seed column
    same_day: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class _AuditColumns:
    audit_operation: Mapped[int] = mapped_column(Integer)
    audit_status: Mapped[int] = mapped_column(Integer, default=AUDIT_OK)
    audit_reason: Mapped[str | None] = mapped_column(String(255))
    job_id: Mapped[int] = mapped_column(BigInteger, default=0)
    job_name: Mapped[str | None] = mapped_column(String(80))
    time_stamp: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CheckPayment(_CheckPaymentColumns, Base):
    __tablename__ = "check_payments"
    __table_args__ = (
        Index("nuk_check_payments_1", "status", "pay_date"),
        Index("nuk_check_payments_2", "status", "reminded"),
        Index("nuk_check_payments_3", "gateway_payment_id"),
        Index("nuk_check_payments_4", "payer_id"),
        Index("nuk_check_payments_5", "partition_id"),
        #: returns are matched by trace number
        Index("nuk_check_payments_6", "txn_number"),
        Index("nuk_check_payments_7", "pid"),
        Index("nuk_check_payments_8", "hold_id"),
        #: payment-reminders reads the payments not yet notified in id order, chunk after chunk
        Index("nuk_check_payments_9", "reminded", "payment_id"),
    )

    payment_id: Mapped[BigId]


class CheckPaymentHistory(_CheckPaymentColumns, _AuditColumns, Base):
    __tablename__ = "check_payments_history"
    __table_args__ = (
        Index("nuk_check_payments_history_1", "log_id", "status"),
        Index("nuk_check_payments_history_2", "payment_id", "time_stamp"),
        Index("nuk_check_payments_history_3", "pid", "time_stamp"),
        Index("nuk_check_payments_history_4", "payer_account_number", "time_stamp"),
        #: the console's "payments this file changed" (job_id is the spool file id for file changes)
        Index("ix_check_payments_history_job_id", "job_id"),
    )

    history_id: Mapped[BigId]
    payment_id: Mapped[int] = mapped_column(BigInteger)


class _PaymentAccountColumns:
    user_id: Mapped[str] = mapped_column(String(40))
    ddn: Mapped[str | None] = mapped_column(String(18))
    payment_type: Mapped[str] = mapped_column(String(10), default="check")
    account_holder_name: Mapped[str] = mapped_column(String(40))
    account_number: Mapped[str] = mapped_column(String(255))
    account_type: Mapped[str] = mapped_column(String(40), default="checking")
    account_usage: Mapped[str | None] = mapped_column(String(40))
    account_status: Mapped[str | None] = mapped_column(String(40))
    routing_transit: Mapped[str | None] = mapped_column(String(9))
    expiration_date_format: Mapped[str | None] = mapped_column(String(20))
    expiration_date: Mapped[dt.date | None] = mapped_column(Date)
    street: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str | None] = mapped_column(String(40))
    zipcode: Mapped[str | None] = mapped_column(String(40))
    country: Mapped[str | None] = mapped_column(String(40))
    notify_source: Mapped[str | None] = mapped_column(String(1))
    notify_status: Mapped[str | None] = mapped_column(String(1))
    txn_message: Mapped[str | None] = mapped_column(String(255))
    txn_date: Mapped[dt.datetime | None]
    flex_field_1: Mapped[str | None] = mapped_column(String(255))
    flex_field_2: Mapped[str | None] = mapped_column(String(255))
    flex_date_1: Mapped[dt.date | None] = mapped_column(Date)
    notify_expire_status: Mapped[str] = mapped_column(String(1), default="N")
    group_id: Mapped[str | None] = mapped_column(String(255))
    group_id_ref: Mapped[str | None] = mapped_column(String(255))
    account_nick_name: Mapped[str | None] = mapped_column(String(40))
    account_description: Mapped[str | None] = mapped_column(String(255))
    #: card accounts (setups channel): brand and last four digits only, never a card number
    card_brand: Mapped[str | None] = mapped_column(String(20))
    card_last_four: Mapped[str | None] = mapped_column(String(4))
    #: where notices about this account and its payments go
    email: Mapped[str | None] = mapped_column(String(255))


class PaymentAccount(_PaymentAccountColumns, Base):
    __tablename__ = "payment_accounts"
    __table_args__ = (
        Index("nuk_payment_accounts_1", "user_id", "account_number"),
        Index("nuk_payment_accounts_2", "account_status", "ddn"),
    )

    pid: Mapped[str] = mapped_column(String(40), primary_key=True)


class PaymentAccountHistory(_PaymentAccountColumns, _AuditColumns, Base):
    __tablename__ = "payment_accounts_history"
    __table_args__ = (Index("nuk_payment_accounts_history_1", "pid", "time_stamp"),)

    history_id: Mapped[BigId]
    pid: Mapped[str] = mapped_column(String(40))


class _PaymentRefundColumns:
    payee_id: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[str | None] = mapped_column(String(40))
    payment_account_number: Mapped[str | None] = mapped_column(String(255))
    payer_account_number: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    payment_type: Mapped[str | None] = mapped_column(String(10))
    refund_type: Mapped[str] = mapped_column(String(1), default="R")
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    billing_system_txn_number: Mapped[str | None] = mapped_column(String(40))
    original_txn_number: Mapped[str | None] = mapped_column(String(40))
    source_system_payment_initiator: Mapped[str | None] = mapped_column(String(40))
    transaction_description: Mapped[str | None] = mapped_column(String(255))
    notify_required: Mapped[str] = mapped_column(String(1), default="N")
    refund_for_payment_id: Mapped[int | None] = mapped_column(BigInteger)
    refund_payment_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(255))
    flex_field_1: Mapped[str | None] = mapped_column(String(255))
    flex_field_2: Mapped[str | None] = mapped_column(String(255))
    flex_field_3: Mapped[str | None] = mapped_column(String(255))
    flex_date: Mapped[dt.date | None] = mapped_column(Date)
    create_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_modify_time: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PaymentRefund(_PaymentRefundColumns, Base):
    __tablename__ = "payment_refunds"
    __table_args__ = (
        Index("nuk_payment_refunds_1", "status"),
        Index("nuk_payment_refunds_2", "refund_for_payment_id"),
        Index("nuk_payment_refunds_3", "payer_account_number"),
    )

    refund_id: Mapped[BigId]


class PaymentRefundHistory(_PaymentRefundColumns, _AuditColumns, Base):
    __tablename__ = "payment_refunds_history"
    __table_args__ = (
        Index("nuk_payment_refunds_history_1", "refund_id", "time_stamp"),
        Index("nuk_payment_refunds_history_2", "payer_account_number", "time_stamp"),
    )

    history_id: Mapped[BigId]
    refund_id: Mapped[int] = mapped_column(BigInteger)


class PaymentLog(Base):
    """Summary and exception reports: name/value rows under one ``log_id`` (seed 001)."""

    __tablename__ = "payment_log"
    __table_args__ = (
        Index("index_payment_log_1", "param_name", "param_value"),
        Index("index_payment_log_2", "log_id"),
    )

    id: Mapped[BigId]
    log_id: Mapped[int] = mapped_column(BigInteger)
    param_name: Mapped[str] = mapped_column(String(80))
    param_value: Mapped[str | None] = mapped_column(String(512))
    batch_index: Mapped[int] = mapped_column(Integer, default=0)


class PaymentCounter(Base):
    """Named sequences (trace numbers, file ID modifiers, report ids); advanced in the caller's
    transaction so a rollback gives the numbers back."""

    __tablename__ = "payment_counters"

    counter_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    counter_value: Mapped[int] = mapped_column(BigInteger)
    seed: Mapped[int] = mapped_column(BigInteger, default=1)
    incremental: Mapped[int] = mapped_column(BigInteger, default=1)
    min_value: Mapped[int] = mapped_column(BigInteger, default=1)
    max_value: Mapped[int] = mapped_column(BigInteger)


class HoldState(StrEnum):
    SUSPENDED = "suspended"  #: over a risk limit; not written
    RELEASED = "released"  #: an operator released it; the next run submits it without the limit check
    SUBMITTED = "submitted"  #: written after release


class SuspendedBatch(Base):
    """A batch check-submit held back because it broke a payee's risk limit (seed 002)."""

    __tablename__ = "ach_suspended_batches"
    __table_args__ = (Index("ix_ach_suspended_batches_state", "state"),)

    id: Mapped[BigId]
    payee_id: Mapped[int] = mapped_column(BigInteger)
    effective_date: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default=HoldState.SUSPENDED)
    entries: Mapped[int] = mapped_column(Integer)
    debit_total: Mapped[int] = mapped_column(BigInteger)
    credit_total: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(512))
    job_id: Mapped[int] = mapped_column(BigInteger, default=0)
    job_name: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    released_at: Mapped[dt.datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(80))
    submitted_at: Mapped[dt.datetime | None]
