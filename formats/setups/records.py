"""The records of a setup file (one JSON object per line), as pydantic models.

Every record has ``op`` (create, update, cancel), ``type`` and the portal's
``id`` for the thing it sets up. ``update`` carries only the fields that
change; ``cancel`` carries nothing else. Amounts are whole cents (integers),
dates ISO ``YYYY-MM-DD``, a card expiry ``YYYY-MM``. Card accounts hold the
brand and the last four digits only.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, TypeAdapter

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Cents = Annotated[StrictInt, Field(ge=0, le=99_999_999_99)]
Email = Annotated[str, Field(max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    op: Literal["create", "update"]
    id: Id


class RecurringRecord(_Record):
    """A recurring (fixed date) or automatic (before due) payment."""

    type: Literal["recurring_payment"]
    user_id: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    #: payee name (payment_payees.name)
    payee: Annotated[str, Field(min_length=1, max_length=18)] | None = None
    #: the payment account (payment_accounts.pid) the money comes from
    pid: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    #: the biller account numbers this setup pays (one or more)
    accounts: Annotated[list[Annotated[str, Field(min_length=1, max_length=40)]],
                        Field(min_length=1, max_length=50)] | None = None
    email: Email | None = None
    amount_type: Literal["fixed", "amount_due", "min_due"] | None = None
    #: the fixed amount, or the limit of ``amount_limit``
    amount: Cents | None = None
    amount_limit: Literal["less_than", "up_to"] | None = None
    pay_date_type: Literal["weekly", "monthly", "quarterly", "before_due"] | None = None
    #: weekly 1-7 (1 = Sunday); monthly and quarterly 1-31
    pay_day: StrictInt | None = None
    days_before_due: Annotated[StrictInt, Field(ge=0, le=60)] | None = None
    #: default: the day after the file is loaded
    start_date: dt.date | None = None
    #: default 3000-01-01 (ends by max_num_payments only)
    end_date: dt.date | None = None
    max_num_payments: Annotated[StrictInt, Field(ge=1, le=2147483647)] | None = None


class ReminderRecord(_Record):
    type: Literal["payment_reminder"]
    user_id: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    email: Email | None = None
    account: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    interval: Literal["once", "weekly", "monthly", "quarterly"] | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    memo: Annotated[str, Field(max_length=255)] | None = None


class AccountRecord(_Record):
    """A bank (check) or card payment account; ``id`` is its pid."""

    type: Literal["payment_account"]
    user_id: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    payee: Annotated[str, Field(min_length=1, max_length=18)] | None = None
    payment_type: Literal["check", "card"] | None = None
    holder: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    email: Email | None = None
    nick_name: Annotated[str, Field(max_length=40)] | None = None
    status: Literal["pnd_active", "active", "inactive"] | None = None
    # bank accounts
    routing_transit: Annotated[str, Field(pattern=r"^\d{9}$")] | None = None
    account_number: Annotated[str, Field(min_length=1, max_length=17, pattern=r"^[A-Za-z0-9-]+$")] | None = None
    account_type: Literal["checking", "saving"] | None = None
    # card accounts
    brand: Literal["visa", "mastercard", "amex", "discover", "other"] | None = None
    last_four: Annotated[str, Field(pattern=r"^\d{4}$")] | None = None
    expiry: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] | None = None


class CancelRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    op: Literal["cancel"]
    type: Literal["recurring_payment", "payment_reminder", "payment_account"]
    id: Id


SetupRecord = RecurringRecord | ReminderRecord | AccountRecord | CancelRecord
MODELS: dict[str, type[_Record]] = {"recurring_payment": RecurringRecord, "payment_reminder": ReminderRecord,
                                    "payment_account": AccountRecord}


def json_schema() -> str:
    """The JSON Schema of one line, as committed in ``setups.schema.json``."""
    schema: dict[str, Any] = TypeAdapter(SetupRecord).json_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "title": "spoolgate setup record (one JSON object per line)", **schema}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
