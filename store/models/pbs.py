"""PBS (Nets Betalingsservice) tables: deliveries both ways, OCR payments, mandates, invoices.

Seed 003's tables, named as there where they exist (``pbs_delivery``,
``ocr_header``, ``ocr_line``, ``pbs_0603_result``); money is integer øre.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, BigId, Cents, utcnow


class DeliveryState(StrEnum):
    PACKAGED = "packaged"  #: XML and zip written to the outgoing folder
    SENT = "sent"  #: uploaded to Nets
    TRANSMITTED = "transmitted"  #: PBCNET40 transmission receipt accepted
    CONFIRMED = "confirmed"  #: PBCNET41 count matches what we sent
    MISMATCH = "mismatch"  #: PBCNET41 count differs: operator alert
    REJECTED = "rejected"  #: a receipt with a non-00 status


class LineStatus(StrEnum):
    NEW = "new"
    SETTLED = "settled"
    ERROR = "error"  #: retried by the next settle run
    IGNORED = "ignored"  #: no money moved (rejected, cancelled)
    REVIEW = "review"  #: needs a person
    CHARGED_BACK = "charged_back"  #: a settled payment a later charge-back reversed
    EXCEPTION = "exception"  #: a charge-back of a payment never received: an operator alert, not retried


class PbsDelivery(Base):
    """One invoice delivery we generated for Nets (XML + PDF zip)."""

    __tablename__ = "pbs_delivery"

    id: Mapped[BigId]
    #: ``D`` + 16 digits: the receipt's 17-character identifier and the invoices' delivery_identifier
    identifier: Mapped[str | None] = mapped_column(String(17), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PACKAGED)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    invoice_count: Mapped[int] = mapped_column(Integer, default=0)
    total_amount: Mapped[Cents] = mapped_column(default=0)
    agreement_number: Mapped[str] = mapped_column(String(9))
    test_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    xml_name: Mapped[str | None] = mapped_column(String(255))
    zip_name: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[dt.datetime | None]
    receipt_file_id: Mapped[int | None] = mapped_column(BigInteger)
    receipt_at: Mapped[dt.datetime | None]
    receipt_status: Mapped[str | None] = mapped_column(String(8))
    receipt_delivery_number: Mapped[str | None] = mapped_column(String(20))
    accepted_count: Mapped[int | None] = mapped_column(Integer)
    accepted_amount: Mapped[int | None] = mapped_column(BigInteger)
    problem: Mapped[str | None] = mapped_column(Text)


class PbsReceivedDelivery(Base):
    """Every 0602/0603 delivery loaded: the BS002 delivery number must not be loaded twice."""

    __tablename__ = "pbs_received_delivery"
    __table_args__ = (UniqueConstraint("data_supplier", "delivery_type", "delivery_number",
                                       name="uq_pbs_received_delivery_number"),)

    id: Mapped[BigId]
    data_supplier: Mapped[str] = mapped_column(String(8))
    system_code: Mapped[str] = mapped_column(String(3))
    delivery_type: Mapped[str] = mapped_column(String(4))
    delivery_number: Mapped[str] = mapped_column(String(10))
    created: Mapped[dt.date | None] = mapped_column(Date)
    spool_file_id: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    warnings: Mapped[int] = mapped_column(Integer, default=0)


class OcrHeader(Base):
    """One 0602 section (0211 automatic or 0215 payment slips) of a delivery."""

    __tablename__ = "ocr_header"

    id: Mapped[BigId]
    delivery_id: Mapped[int] = mapped_column(ForeignKey("pbs_received_delivery.id"), index=True)
    spool_file_id: Mapped[int] = mapped_column(BigInteger)
    delivery_number: Mapped[str] = mapped_column(String(10))
    section: Mapped[str] = mapped_column(String(4))
    pbs_number: Mapped[str] = mapped_column(String(8))
    debtor_group: Mapped[str] = mapped_column(String(5))
    created: Mapped[dt.date | None] = mapped_column(Date)
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    #: sum of the lines' received amounts (øre, signed)
    total_amount: Mapped[Cents] = mapped_column(default=0)
    #: BS092 section amount as Nets states it
    control_amount: Mapped[int | None] = mapped_column(BigInteger)


class _OcrLineColumns:
    header_id: Mapped[int] = mapped_column(BigInteger)
    line_no: Mapped[int | None] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(4))
    transaction_code: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(16))
    customer_number: Mapped[str] = mapped_column(String(15))
    agreement_number: Mapped[str | None] = mapped_column(String(9))
    card_type: Mapped[str | None] = mapped_column(String(2))
    payment_reference: Mapped[str] = mapped_column(String(30))
    archive_reference: Mapped[str | None] = mapped_column(String(30))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    payment_date: Mapped[dt.date | None] = mapped_column(Date)
    booking_date: Mapped[dt.date | None] = mapped_column(Date)
    requested_amount: Mapped[Cents]
    paid_amount: Mapped[Cents]
    total_amount: Mapped[Cents]
    fee_amount: Mapped[Cents] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default=LineStatus.NEW)
    status_reason: Mapped[str | None] = mapped_column(Text)
    invoice_id: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    settled_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: a charge-back line: the settled payment line it reverses
    reverses_line_id: Mapped[int | None] = mapped_column(BigInteger)


class OcrLine(_OcrLineColumns, Base):
    """One 0602 payment line; ``total_amount`` is the received amount in øre, signed."""

    __tablename__ = "ocr_line"
    __table_args__ = (Index("ix_ocr_line_status", "status"),
                      Index("ix_ocr_line_payment_reference", "payment_reference"))

    id: Mapped[BigId]
    header_id: Mapped[int] = mapped_column(ForeignKey("ocr_header.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))


class _AuditColumns:
    """Seed 004 audit columns, as on the ACH history tables."""

    audit_operation: Mapped[int] = mapped_column(Integer)
    audit_status: Mapped[int] = mapped_column(Integer, default=1)
    audit_reason: Mapped[str | None] = mapped_column(String(255))
    job_id: Mapped[int] = mapped_column(BigInteger, default=0)
    job_name: Mapped[str | None] = mapped_column(String(80))
    time_stamp: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OcrLineHistory(_OcrLineColumns, _AuditColumns, Base):
    """Seed 004 history of PBS payment lines: one row per insert and update."""

    __tablename__ = "ocr_line_history"
    __table_args__ = (Index("ix_ocr_line_history_id", "id", "time_stamp"),
                      Index("ix_ocr_line_history_customer", "customer_number", "time_stamp"))

    history_id: Mapped[BigId]
    id: Mapped[int] = mapped_column(BigInteger)


class Pbs0603Result(Base):
    """One 0603 line: a mandate event (0230-0234) or payment-slip information (0295)."""

    __tablename__ = "pbs_0603_result"

    id: Mapped[BigId]
    delivery_id: Mapped[int] = mapped_column(ForeignKey("pbs_received_delivery.id"), index=True)
    spool_file_id: Mapped[int] = mapped_column(BigInteger)
    line_no: Mapped[int | None] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(4))
    transaction_code: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(32))
    pbs_number: Mapped[str] = mapped_column(String(8))
    debtor_group: Mapped[str] = mapped_column(String(5))
    customer_number: Mapped[str] = mapped_column(String(15))
    agreement_number: Mapped[str | None] = mapped_column(String(9))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    card_type: Mapped[str | None] = mapped_column(String(2))
    payment_id: Mapped[str | None] = mapped_column(String(19))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(30))
    #: applied (agreement updated) or recorded (information only)
    status: Mapped[str] = mapped_column(String(16), default="applied")
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("pbs_agreement.id"))


class AgreementStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class _PbsAgreementColumns:
    pbs_number: Mapped[str] = mapped_column(String(8))
    agreement_number: Mapped[str] = mapped_column(String(9))
    customer_number: Mapped[str] = mapped_column(String(15))
    debtor_group: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(16), default=AgreementStatus.ACTIVE)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    #: the 0603 event kind that cancelled it (debtor bank, creditor, Betalingsservice) or "not in full list"
    cancel_reason: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: creation date and number of the 0603 delivery whose event decided the status: a delivery
    #: older than that (processed late) never undoes it
    as_of_date: Mapped[dt.date | None] = mapped_column(Date)
    as_of_delivery: Mapped[str | None] = mapped_column(String(10))


class PbsAgreement(_PbsAgreementColumns, Base):
    """A Betalingsservice payment agreement (mandate). EIK agreements share number
    999999999, so the customer number is part of the key."""

    __tablename__ = "pbs_agreement"
    __table_args__ = (UniqueConstraint("pbs_number", "agreement_number", "customer_number",
                                       name="uq_pbs_agreement_number"),
                      Index("ix_pbs_agreement_customer", "customer_number"))

    id: Mapped[BigId]


class PbsAgreementHistory(_PbsAgreementColumns, _AuditColumns, Base):
    """Seed 004 history of payment agreements: one row per insert and update."""

    __tablename__ = "pbs_agreement_history"
    __table_args__ = (Index("ix_pbs_agreement_history_id", "id", "time_stamp"),
                      Index("ix_pbs_agreement_history_customer", "customer_number", "time_stamp"))

    history_id: Mapped[BigId]
    id: Mapped[int] = mapped_column(BigInteger)


class Invoice(Base):
    """The invoices PBS collects. Ready for a delivery (seed 003): print process type 10,
    closed, no delivery identifier, outstanding (excl. VAT + VAT - paid) > 0."""

    __tablename__ = "invoice"
    __table_args__ = (Index("ix_invoice_ready", "print_process_type_id", "closed", "delivery_identifier"),)

    id: Mapped[BigId]
    invoice_number: Mapped[str] = mapped_column(String(30), unique=True)
    customer_number: Mapped[str] = mapped_column(String(15))
    invoice_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    total_excl_vat: Mapped[Cents]
    total_vat: Mapped[Cents]
    paid_amount: Mapped[Cents] = mapped_column(default=0)
    print_process_type_id: Mapped[int] = mapped_column(Integer, default=10)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery_identifier: Mapped[str | None] = mapped_column(String(17))
    pbs_delivery_id: Mapped[int | None] = mapped_column(ForeignKey("pbs_delivery.id"))
    mandate_number: Mapped[str | None] = mapped_column(String(9))
    debtor_name: Mapped[str | None] = mapped_column(String(35))
    debtor_address: Mapped[list[Any] | None]
    post_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(35))

    @property
    def outstanding(self) -> int:
        return self.total_excl_vat + self.total_vat - self.paid_amount


class InvoicePayment(Base):
    """A payment booked on an invoice from an OCR line; one per line, ever."""

    __tablename__ = "invoice_payment"

    id: Mapped[BigId]
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    ocr_line_id: Mapped[int] = mapped_column(ForeignKey("ocr_line.id"), unique=True)
    amount: Mapped[Cents]
    paid_on: Mapped[dt.date | None] = mapped_column(Date)
    #: the Danish bank day the payment is booked on
    booked_on: Mapped[dt.date] = mapped_column(Date)
    job_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PaymentSurplus(Base):
    """Money received above the invoice's outstanding amount, for the reallocation engine."""

    __tablename__ = "payment_surplus"

    id: Mapped[BigId]
    ocr_line_id: Mapped[int] = mapped_column(ForeignKey("ocr_line.id"), unique=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    #: the invoice the money was meant for (the payment reference), even when it was already paid
    invoice_number: Mapped[str | None] = mapped_column(String(30))
    customer_number: Mapped[str] = mapped_column(String(15))
    amount: Mapped[Cents]
    #: open until the reallocation engine uses it; reversed by a charge-back
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PbsDocument(Base):
    """The document archive: the PDF of an invoice, kept as a file in the archive folder."""

    __tablename__ = "pbs_document"

    id: Mapped[BigId]
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    generated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PbsAlert(Base):
    """Files in error already reported to the alert group (one alert per file)."""

    __tablename__ = "pbs_alert"

    spool_file_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    notification_id: Mapped[int | None] = mapped_column(BigInteger)
    alerted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
