"""``spoolgate import FILE.json``: payees, payment accounts and scheduled payments.

The web front end does this in production; operators and tests need it here.
Every row is validated before anything is written and all rows go in one
transaction, so a bad row rejects the whole file with every reason listed.

Re-importing is safe: payees and accounts are updated in place, and each payment
carries an ``external_id`` (unique per payee); a payment whose external id was
imported before is left exactly as it is (a no-op, counted as "already imported"),
since it may already be submitted or paid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator
from sqlalchemy import select

from formats.errors import mask
from formats.nacha.routing import is_valid
from handlers.ach.audit import Actor, audit_objects
from handlers.ach.settings import PayeeSettings
from handlers.ach.store import ach_settings
from store.config import Settings
from store.models.ach import AccountStatus, AuditOp, CheckPayment, CheckStatus, PaymentAccount, PaymentPayee
from store.models.ach_import import ImportedPayment
from store.unit import UnitSession


class ImportRejected(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing imported")
        self.problems = problems


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PayeeRow(_Row):
    name: str = Field(min_length=1, max_length=18)
    gateway: Literal["ach", "checkfree"] = "ach"
    settings: dict[str, Any] = Field(default_factory=dict)


def _routing(v: str | None) -> str | None:
    if v is not None and not is_valid(v):
        raise ValueError(f"routing number {v} is not 9 digits with a valid check digit")
    return v


def _account(v: str | None) -> str | None:
    if v is not None and not (1 <= len(v) <= 17 and v.isascii() and v.strip() == v):
        raise ValueError(f"account number {mask(v)} must be 1-17 characters without surrounding blanks")
    return v


class AccountRow(_Row):
    pid: str = Field(min_length=1, max_length=40)
    user_id: str = Field(min_length=1, max_length=40)
    ddn: str | None = Field(default=None, max_length=18)
    payment_type: Literal["check"] = "check"
    account_holder_name: str = Field(min_length=1, max_length=40)
    account_number: str
    account_type: Literal["checking", "saving"] = "checking"
    account_usage: Literal["personal", "business"] | None = None
    account_status: AccountStatus = AccountStatus.PND_ACTIVE
    routing_transit: str
    account_nick_name: str | None = Field(default=None, max_length=40)

    _r = field_validator("routing_transit")(classmethod(lambda cls, v: _routing(v)))
    _a = field_validator("account_number")(classmethod(lambda cls, v: _account(v)))


class PaymentRow(_Row):
    payee: str
    #: the sending system's id of this payment, unique per payee: a re-import never pays twice
    external_id: str = Field(min_length=1, max_length=64)
    payer_id: str = Field(min_length=1, max_length=40)
    pay_date: dt.date
    #: integer cents; negative for a credit
    amount: StrictInt
    pid: str | None = None
    status: Literal[6, 9] = 6
    routing_transit: str | None = None
    check_account_number: str | None = None
    account_name: str | None = Field(default=None, max_length=40)
    account_type: Literal["checking", "saving"] | None = None
    payer_account_number: str | None = Field(default=None, max_length=40)
    bill_id: str | None = Field(default=None, max_length=255)
    payment_source: Literal["S", "R"] = "S"
    memo: str | None = Field(default=None, max_length=255)
    gateway_payment_id: str | None = Field(default=None, max_length=255)
    #: settle the same day when the payee's bank has a same-day window (handlers.ach.windows)
    same_day: bool = False

    _r = field_validator("routing_transit")(classmethod(lambda cls, v: _routing(v)))
    _a = field_validator("check_account_number")(classmethod(lambda cls, v: _account(v)))


class ImportFile(_Row):
    payees: list[dict[str, Any]] = Field(default_factory=list)
    accounts: list[dict[str, Any]] = Field(default_factory=list)
    payments: list[dict[str, Any]] = Field(default_factory=list)


@dataclass
class ImportResult:
    payees: int = 0
    accounts_created: int = 0
    accounts_updated: int = 0
    payments: int = 0
    payment_ids: list[int] = field(default_factory=list)
    #: payments whose external id was imported before: left unchanged
    payments_existing: int = 0


def _errors(where: str, exc: ValidationError) -> list[str]:
    out = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e["loc"])
        out.append(f"{where}{'.' + loc if loc else ''}: {e['msg']}")
    return out


def import_data(session: UnitSession, settings: Settings, data: Any, actor: Actor) -> ImportResult:
    """Validate everything, then write; raises ImportRejected with every problem (nothing written)."""
    problems: list[str] = []
    try:
        doc = ImportFile.model_validate(data)
    except ValidationError as exc:
        raise ImportRejected(_errors("file", exc)) from None
    payees: list[tuple[int, PayeeRow]] = []
    accounts: list[tuple[int, AccountRow]] = []
    payments: list[tuple[int, PaymentRow]] = []
    overrides = ach_settings(settings).payees
    for kind, rows, model, out in (("payees", doc.payees, PayeeRow, payees),
                                   ("accounts", doc.accounts, AccountRow, accounts),
                                   ("payments", doc.payments, PaymentRow, payments)):
        for i, raw in enumerate(rows):
            try:
                out.append((i, model.model_validate(raw)))  # type: ignore[arg-type]
            except ValidationError as exc:
                problems.extend(_errors(f"{kind}[{i}]", exc))
    for i, p in payees:
        try:
            PayeeSettings.model_validate({**p.settings, "gateway": p.gateway, **overrides.get(p.name, {})})
        except ValidationError as exc:
            problems.extend(_errors(f"payees[{i}].settings", exc))
    known_payees = {r.name: r.payee_id for r in session.scalars(select(PaymentPayee))}
    file_payees = {p.name for _, p in payees}
    seen_pids: set[str] = set()
    for i, a in accounts:
        if a.pid in seen_pids:
            problems.append(f"accounts[{i}].pid: {a.pid} appears twice in the file")
        seen_pids.add(a.pid)
        if a.ddn and a.ddn not in known_payees and a.ddn not in file_payees:
            problems.append(f"accounts[{i}].ddn: unknown payee {a.ddn}")
    file_accounts = {a.pid: a for _, a in accounts}
    pids = {p.pid for _, p in payments if p.pid and p.pid not in file_accounts}
    db_accounts = {a.pid: a for a in session.scalars(select(PaymentAccount).where(PaymentAccount.pid.in_(pids)))} \
        if pids else {}
    seen_ids: dict[tuple[str, str], int] = {}
    for i, pm in payments:
        first = seen_ids.setdefault((pm.payee, pm.external_id), i)
        if first != i:
            problems.append(f"payments[{i}].external_id: {pm.external_id} of payee {pm.payee} is also "
                            f"payments[{first}]")
        if pm.payee not in known_payees and pm.payee not in file_payees:
            problems.append(f"payments[{i}].payee: unknown payee {pm.payee}")
        if pm.pid is not None:
            if pm.pid not in file_accounts and pm.pid not in db_accounts:
                problems.append(f"payments[{i}].pid: unknown payment account {pm.pid}")
        else:
            missing = [k for k in ("routing_transit", "check_account_number", "account_name", "account_type")
                       if getattr(pm, k) is None]
            if missing:
                problems.append(f"payments[{i}]: without a pid the payment needs {', '.join(missing)}")
    if problems:
        raise ImportRejected(problems)
    return _write(session, [p for _, p in payees], [a for _, a in accounts], [p for _, p in payments], db_accounts,
                  actor)


def _write(session: UnitSession, payees: list[PayeeRow], accounts: list[AccountRow], payments: list[PaymentRow],
           db_accounts: dict[str, PaymentAccount], actor: Actor) -> ImportResult:
    res = ImportResult()
    for p in payees:
        row = session.scalar(select(PaymentPayee).where(PaymentPayee.name == p.name))
        if row is None:
            session.add(PaymentPayee(name=p.name, gateway=p.gateway, settings=p.settings, create_time=actor.now,
                                     last_modify_time=actor.now))
        else:
            row.gateway, row.settings, row.last_modify_time = p.gateway, p.settings, actor.now
        res.payees += 1
    session.flush()
    payee_ids = {r.name: r.payee_id for r in session.scalars(select(PaymentPayee))}
    created: list[PaymentAccount] = []
    updated: list[PaymentAccount] = []
    for a in accounts:
        values = a.model_dump()
        values["account_status"] = str(a.account_status)
        row_a = session.get(PaymentAccount, a.pid)
        if row_a is None:
            row_a = PaymentAccount(**values, notify_expire_status="N")
            session.add(row_a)
            created.append(row_a)
        else:
            for k, v in values.items():
                setattr(row_a, k, v)
            updated.append(row_a)
        db_accounts[a.pid] = row_a
    audit_objects(session, created, AuditOp.CREATE, actor, "import")
    audit_objects(session, updated, AuditOp.UPDATE, actor, "import")
    res.accounts_created, res.accounts_updated = len(created), len(updated)
    rows: list[CheckPayment] = []
    keys: list[tuple[int, str]] = []
    for pm in payments:
        key = (payee_ids[pm.payee], pm.external_id)
        if session.get(ImportedPayment, key) is not None:
            res.payments_existing += 1
            continue
        keys.append(key)
        acct = db_accounts.get(pm.pid) if pm.pid else None
        rows.append(CheckPayment(
            payee_id=payee_ids[pm.payee], payer_id=pm.payer_id, pay_date=pm.pay_date, amount=pm.amount,
            status=CheckStatus(pm.status), pid=pm.pid,
            routing_transit=pm.routing_transit or (acct.routing_transit if acct else None),
            check_account_number=pm.check_account_number or (acct.account_number if acct else None),
            account_name=pm.account_name or (acct.account_holder_name if acct else None),
            account_type=pm.account_type or (acct.account_type if acct else "checking"),
            payer_account_number=pm.payer_account_number, bill_id=pm.bill_id, payment_source=pm.payment_source,
            memo=pm.memo, gateway_payment_id=pm.gateway_payment_id, same_day=pm.same_day, reminded="N",
            create_time=actor.now,
            last_modify_time=actor.now))
    session.add_all(rows)
    session.flush()
    session.add_all(ImportedPayment(payee_id=k[0], external_id=k[1], payment_id=r.payment_id, imported_at=actor.now)
                    for k, r in zip(keys, rows, strict=True))
    audit_objects(session, rows, AuditOp.CREATE, actor, "import")
    res.payments = len(rows)
    res.payment_ids = [r.payment_id for r in rows]
    return res
