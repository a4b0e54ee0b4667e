"""Which imported record became which payment, so ``spoolgate import`` never pays twice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, utcnow


class ImportedPayment(Base):
    """A payment record's external id (per payee) and the ``check_payments`` row it created."""

    __tablename__ = "ach_imported_payments"

    payee_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_id: Mapped[int] = mapped_column(BigInteger, index=True)
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
