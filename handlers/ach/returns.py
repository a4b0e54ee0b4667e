"""``ach.returns``: pmtCheckUpdate's ACH logic for a return / NOC / prenote-return file (seed 001).

The file is applied in the pipeline's one transaction: entries stream from
:class:`~formats.nacha.AchReader` and are applied a chunk at a time with
set-based statements (one trace lookup per chunk, bulk updates and inserts,
``INSERT ... SELECT`` audit rows), so 100,000 returns cost a few hundred
statements. The file is rejected whole when it is invalid, its header matches
no payee, or a batch matches no payee; unmatched entries are listed in the
exception report, never dropped. The transmission acknowledgment (seed 002)
is staged in the same unit of work.
"""

from __future__ import annotations

import datetime as dt
import gzip
import zlib
from collections import Counter as Tally
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

from sqlalchemy import and_, bindparam, select, update

from formats.errors import FormatError, Issue, IssueCode, Severity
from formats.nacha import AchReader, Entry, ValidationPolicy
from formats.nacha.codes import DEBIT_CODES
from formats.nacha.records.batch_header import BatchHeader
from formats.nacha.records.file_header import FileHeader
from formats.nacha.returns import NocResult, ReturnResult
from handlers.ach.achfile import ACCOUNT_TYPE_OF_CODE, DEBIT_CODE
from handlers.ach.ack import BatchInfo, build_ack, render
from handlers.ach.audit import Actor, audit_ids, audit_snapshots, base_columns, chunks
from handlers.ach.settings import AchSettings, policy_of
from handlers.ach.store import (
    Payee,
    ach_settings,
    bulk_update,
    db_value,
    driver_rows,
    key_filter,
    load_payees,
    new_log_id,
    write_log,
)
from handlers.base import FileContext, Handler, HandlerResult, Rejected
from handlers.stats import analyze_if_stale
from store.behind import WriteBehind
from store.bulk import insert_dicts
from store.models.ach import AccountStatus, AuditOp, CheckPayment, CheckStatus, PaymentAccount
from store.session import UnitSession

OPTIONS = {"policy", "partner", "ack", "gunzip"}
#: which account fields a change code corrects (seed 001 "NOC Returns")
CHANGES_ACCOUNT = frozenset({"C01", "C03", "C06", "C07"})
CHANGES_ROUTING = frozenset({"C02", "C03", "C07"})
CHANGES_TYPE = frozenset({"C05", "C06", "C07"})
PAYMENT_COLUMNS = ("payment_id", "payee_id", "payer_id", "status", "amount", "pid", "routing_transit",
                   "check_account_number", "account_type", "account_name", "txn_number", "pay_date", "action_code")


def _norm(v: str) -> str:
    return v.strip().upper()


@dataclass
class _Item:
    line: int
    payee: Payee
    batch: BatchInfo
    entry: Entry
    ret: ReturnResult | None
    noc: NocResult | None

    @property
    def trace(self) -> str:
        r = self.ret or self.noc
        return r.original_trace_number if r is not None else self.entry.detail.trace_number


@dataclass
class _Exception:
    line: int
    trace: str
    code: str
    reason: str
    amount: int

    def issue(self) -> Issue:
        return Issue(code=IssueCode.ACH_RETURN_EXCEPTION, reason=self.reason, line=self.line, record="EntryDetail",
                     field="trace_number", columns=(80, 94), value=self.trace, severity=Severity.WARNING)


@dataclass
class _Applier:
    """Applies returns and NOCs a chunk at a time; holds the in-file state of touched rows.

    A chunk's writes go behind (``store.behind``): the file's next chunk is parsed while the
    database applies them; the next chunk's lookup waits for them first."""

    session: UnitSession
    behind: WriteBehind
    actor: Actor
    log_id: int
    file_name: str
    noc_notify: dict[int, bool]
    noc_auto: dict[int, bool]
    pending: list[_Item] = field(default_factory=list)
    status: dict[int, int] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    exceptions: list[_Exception] = field(default_factory=list)
    returned: list[tuple[int, str, int, str, dt.date]] = field(default_factory=list)
    counts: Tally[str] = field(default_factory=Tally)
    returned_amount: int = 0

    def flush(self) -> None:
        items, self.pending = self.pending, []
        self.apply(items)

    def apply(self, items: list[_Item]) -> None:
        for it in items:
            if it.ret is None and it.noc is None:
                self._exc(it, "", "entry has no return (99) or NOC (98) addenda")
        items = [it for it in items if it.ret is not None or it.noc is not None]
        if not items:
            return
        self.behind.wait()
        found = self._lookup([i.trace for i in items])
        pay_updates: dict[str, list[dict[str, Any]]] = defaultdict(list)
        noc_rows: list[dict[str, Any]] = []
        acct_hist: list[dict[str, Any]] = []
        dirty: dict[str, dict[str, Any]] = {}
        self._load_accounts([p for i in items for p in found.get(i.trace, ()) if p["pid"]])
        now = self.actor.now
        for it in items:
            p = self._choose(it, found.get(it.trace, []))
            if p is None:
                continue
            pid_ = p["payment_id"]
            status = self.status.get(pid_, p["status"])
            if it.ret is not None:
                code = it.ret.code
                if it.ret.kind != "return":
                    self._exc(it, code, f"{it.ret.kind} return {code} for payment {pid_} is not applied")
                    continue
                prenote = status == CheckStatus.PRENOTE_PROCESSED
                if status in (CheckStatus.RETURNED, CheckStatus.PRENOTE_RETURNED):
                    self._exc(it, code, f"payment {pid_} is already returned")
                    continue
                if not prenote and status not in (CheckStatus.PROCESSED, CheckStatus.PAID):
                    self._exc(it, code, f"payment {pid_} has status {status}; return {code} not applied")
                    continue
                new = CheckStatus.PRENOTE_RETURNED if prenote else CheckStatus.RETURNED
                self.status[pid_] = new
                pay_updates[code].append({"payment_id": pid_, "status": new, "txn_err_msg": code, "reminded": "N",
                                          "log_id": self.log_id, "last_modify_time": now})
                if prenote:
                    acct = self._account(p)
                    if acct is None:
                        self._exc(it, code, f"prenote {pid_}: no payment account to mark bad_active")
                    else:
                        acct.update(account_status=AccountStatus.BAD_ACTIVE, txn_message=code, notify_status="N",
                                    txn_date=now)
                        acct_hist.append({**acct, "_reason": f"prenote returned {code} in {self.file_name}"})
                        dirty[acct["pid"]] = acct
                    self.counts["prenote_returns"] += 1
                    it.batch.prenote_returns += 1
                else:
                    self.counts["returns"] += 1
                    it.batch.returns += 1
                    self.returned_amount += p["amount"]
                    self.returned.append((pid_, p["payer_id"], p["amount"], code, p["pay_date"]))
            elif it.noc is not None:
                noc = it.noc
                noc_rows.append(self._noc_row(it, p, noc))
                acct = self._account(p)
                if acct is None:
                    self._exc(it, noc.code, f"NOC for payment {pid_}: no payment account to update")
                else:
                    self._apply_noc(it, noc, acct, p)
                    acct_hist.append({**acct, "_reason": f"NOC {noc.code} in {self.file_name}"})
                    dirty[acct["pid"]] = acct
                self.counts["nocs"] += 1
                it.batch.nocs += 1
        self._write(pay_updates, noc_rows, acct_hist, dirty)

    # -- lookups ------------------------------------------------------------------------------
    def _lookup(self, traces: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        wanted = sorted(set(traces))
        cols = ", ".join(PAYMENT_COLUMNS)
        for key in ("txn_number", "gateway_payment_id"):
            for part in chunks(wanted, 2000):
                where, params = key_filter(self.session, key, part)
                for row in driver_rows(self.session, f"SELECT {cols}, {key} FROM check_payments WHERE {where}",
                                       params):
                    out[row[-1]].append(dict(zip(PAYMENT_COLUMNS, row, strict=False)))
            wanted = [t for t in wanted if t not in out]
            if not wanted:
                break
        return out

    def _choose(self, it: _Item, cands: list[dict[str, Any]]) -> dict[str, Any] | None:
        code = (it.ret.code if it.ret else it.noc.code if it.noc else "")
        if not cands:
            self._exc(it, code, "no payment with this trace number")
            return None
        mine = [c for c in cands if c["payee_id"] == it.payee.payee_id and c["status"] != CheckStatus.NOC_RETURNED]
        if not mine:
            self._exc(it, code, f"trace belongs to another payee than the batch's ({it.payee.name})")
            return None
        return max(mine, key=lambda c: c["payment_id"])

    def _load_accounts(self, payments: list[dict[str, Any]]) -> None:
        pids = sorted({p["pid"] for p in payments} - set(self.accounts))
        table = PaymentAccount.__table__
        for part in chunks(pids):
            for row in self.session.execute(select(table).where(table.c.pid.in_(part))):
                self.accounts[row.pid] = dict(row._mapping)
        for pid in pids:
            self.accounts.setdefault(pid, None)

    def _account(self, p: dict[str, Any]) -> dict[str, Any] | None:
        if p["pid"]:
            return self.accounts.get(p["pid"])
        table = PaymentAccount.__table__
        row = self.session.execute(select(table).where(and_(table.c.user_id == p["payer_id"],
                                                            table.c.account_number == p["check_account_number"]))
                                   .limit(1)).first()
        if row is None:
            return None
        return self.accounts.setdefault(row.pid, dict(row._mapping))

    def _exc(self, it: _Item, code: str, reason: str) -> None:
        self.exceptions.append(_Exception(it.line, it.trace, code, reason, it.entry.amount))
        it.batch.exceptions += 1
        self.counts["exceptions"] += 1

    # -- NOCs ---------------------------------------------------------------------------------
    def _noc_row(self, it: _Item, p: dict[str, Any], noc: NocResult) -> dict[str, Any]:
        now = self.actor.now
        return {"payee_id": p["payee_id"], "payer_id": p["payer_id"], "pay_date": now.date(),
                "status": int(CheckStatus.NOC_RETURNED), "routing_transit": p["routing_transit"],
                "account_name": p["account_name"], "check_account_number": p["check_account_number"], "amount": 0,
                "account_type": p["account_type"], "txn_number": it.entry.detail.trace_number,
                "txn_err_msg": noc.code, "memo": f"NOC {noc.code} for payment {p['payment_id']}",
                "flexible_field_1": str(p["payment_id"]), "flexible_field_2": noc.corrected.raw.strip()[:255],
                "pid": p["pid"], "log_id": self.log_id, "reminded": "N", "payment_source": "S",
                "create_time": now, "last_modify_time": now, "needs_backup": "N", "partition_id": 0}

    def _apply_noc(self, it: _Item, noc: NocResult, acct: dict[str, Any], p: dict[str, Any]) -> None:
        """txn_message NOC_CODE::NEW::OLD; the account corrected when the payee auto-updates."""
        old = _old_info(noc.code, acct)
        new = noc.corrected.raw.strip()
        acct["txn_message"] = f"{noc.code}::{new}::{old}"[:255]
        acct["txn_date"] = self.actor.now
        if self.noc_notify.get(it.payee.payee_id, True):
            acct["notify_status"] = "N"
        if noc.refused or not self.noc_auto.get(it.payee.payee_id, True):
            return
        c = noc.corrected
        problems = []
        if noc.code in CHANGES_ACCOUNT:
            if c.account_number and len(c.account_number) <= 17:
                acct["account_number"] = c.account_number
            else:
                problems.append("corrected account number missing or too long")
        if noc.code in CHANGES_ROUTING:
            from formats.nacha.routing import is_valid

            if c.routing_number and is_valid(c.routing_number):
                acct["routing_transit"] = c.routing_number
            else:
                problems.append(f"corrected routing number {c.routing_number!r} is not valid")
        if noc.code in CHANGES_TYPE:
            atype = ACCOUNT_TYPE_OF_CODE.get(c.transaction_code or 0)
            if atype:
                acct["account_type"] = atype
            else:
                problems.append(f"corrected transaction code {c.transaction_code!r} is not a checking/saving code")
        for why in problems:
            self._exc(it, noc.code, f"NOC for payment {p['payment_id']}: {why}; that field not updated")

    # -- writes -------------------------------------------------------------------------------
    def _write(self, pay_updates: dict[str, list[dict[str, Any]]], noc_rows: list[dict[str, Any]],
               acct_hist: list[dict[str, Any]], dirty: dict[str, dict[str, Any]]) -> None:
        """Hands the chunk's statements to ``behind``; every value is taken now (the accounts in
        ``dirty`` may change again in the next chunk while these writes run)."""
        s, actor, log_id, file_name = self.session, self.actor, self.log_id, self.file_name
        lmt = db_value(s, CheckPayment.__table__.c.last_modify_time, actor.now)
        updates = [(code, [(r["payment_id"], int(r["status"]), code, "N", log_id, lmt) for r in rows])
                   for code, rows in pay_updates.items()]
        cols = [c for c in base_columns(PaymentAccount) if c != "pid"]
        accounts = [{"b_pid": a["pid"], **{f"b_{c}": a[c] for c in cols}} for a in dirty.values()]

        def writes() -> None:
            for code, rows in updates:
                bulk_update(s, "check_payments", "payment_id",
                            ("status", "txn_err_msg", "reminded", "log_id", "last_modify_time"), rows)
                audit_ids(s, CheckPayment, [r[0] for r in rows], AuditOp.UPDATE, actor,
                          f"returned {code} in {file_name}")
            if noc_rows:
                # one unnest(arrays) statement on PostgreSQL; the ORM's insert of 1,000 rows with RETURNING
                # binds 25,000 parameters
                ids = [r[0] for r in insert_dicts(s, CheckPayment.__tablename__, noc_rows,
                                                  returning=("payment_id",))]
                audit_ids(s, CheckPayment, ids, AuditOp.CREATE, actor, f"NOC in {file_name}")
            if accounts:
                table: Any = PaymentAccount.__table__
                stmt = update(table).where(table.c.pid == bindparam("b_pid")).values(
                    **{c: bindparam(f"b_{c}") for c in cols})
                s.execute(stmt, accounts)
                audit_snapshots(s, PaymentAccount, acct_hist, AuditOp.UPDATE, actor)

        self.behind.submit(writes)


def _tx_of(acct: dict[str, Any]) -> str:
    return str(DEBIT_CODE.get((acct.get("account_type") or "").lower(), ""))


def _old_info(code: str, acct: dict[str, Any]) -> str:
    """The account's current data in the corrected-data layout of ``code`` (Rules Appendix 5), trimmed."""
    account = acct.get("account_number") or ""
    routing = acct.get("routing_transit") or ""
    if code == "C01":
        raw = account
    elif code == "C02":
        raw = routing
    elif code == "C03":
        raw = f"{routing}   {account}"
    elif code == "C05":
        raw = _tx_of(acct)
    elif code == "C06":
        raw = f"{account.ljust(17)}   {_tx_of(acct)}"
    elif code == "C07":
        raw = f"{routing}{account.ljust(17)}{_tx_of(acct)}"
    else:
        raw = f"{routing} {account} {_tx_of(acct)}"
    return raw.strip()


class _Gunzip:
    """A gzip-compressed return file read as its content (route option ``gunzip = true``);
    corrupt or truncated gzip data is a format error of the file, never a crash."""

    def __init__(self, raw: BinaryIO) -> None:
        self._gz = gzip.GzipFile(fileobj=raw, mode="rb")

    def read(self, size: int = -1) -> bytes:
        try:
            return self._gz.read(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise FormatError.single(IssueCode.COMPRESSED, f"gzip data is corrupt: {exc}", line=1,
                                     record="(gzip)") from None


class AchReturnsHandler(Handler):
    name = "ach.returns"
    accepts = ("*.ach", "*.txt", "*.ret", "*")
    description = "apply an ACH return / NOC / prenote-return file; write the transmission acknowledgment"

    known_options = OPTIONS

    def check_options(self) -> list[str]:
        problems = super().check_options()
        try:
            conf = ach_settings(self.settings)
        except Exception as exc:
            return [*problems, f"[ach] section: {exc}"]
        partner = self.options.get("partner")
        if partner is not None and partner not in conf.partner_policies:
            problems.append(f"partner {partner!r} has no entry in ach.partner_policies")
        if "policy" in self.options:
            try:
                policy_of(self.options["policy"])
            except ValueError as exc:
                problems.append(f"policy: {exc}")
        if not isinstance(self.options.get("gunzip", False), bool):
            problems.append("gunzip must be true or false")
        if self._ack_enabled(conf) and conf.ack.target not in self.settings.outbound:
            problems.append(f"ack target {conf.ack.target!r} is not an outbound target")
        if conf.ack.xslt is not None and not self.settings.path(conf.ack.xslt).is_file():
            problems.append(f"ack XSLT {conf.ack.xslt} does not exist")
        return problems

    def _ack_enabled(self, conf: AchSettings) -> bool:
        return bool(self.options.get("ack", conf.ack.enabled))

    def policy(self, conf: AchSettings) -> ValidationPolicy:
        if "policy" in self.options:
            value = self.options["policy"]
        elif "partner" in self.options:
            value = conf.partner_policies[self.options["partner"]]
        else:
            value = conf.returns_policy
        result: ValidationPolicy = policy_of(value)
        return result

    def handle(self, ctx: FileContext, stream: BinaryIO) -> HandlerResult:
        conf = ach_settings(ctx.settings)
        s = ctx.session
        payees = [p for p in load_payees(s, ctx.settings).values() if p.settings.gateway == "ach"]
        if not payees:
            raise Rejected("no ACH payee is configured", code=IssueCode.NO_PAYEE)
        actor = Actor.for_file(ctx)
        log_id = new_log_id(s)
        behind = WriteBehind.on(s)
        applier = _Applier(s, behind, actor, log_id, ctx.file.original_name,
                           {p.payee_id: p.settings.noc_notify for p in payees},
                           {p.payee_id: p.settings.noc_auto_update for p in payees})
        if s.get_bind().dialect.name == "sqlite":
            # Matching touches random pages of a large table and its indexes: a bigger page cache for
            # this connection (the default 2 MB thrashes) is the difference between seconds and minutes.
            s.connection().exec_driver_sql(f"PRAGMA cache_size = -{conf.sqlite_cache_mb * 1024}")
        # payments are bulk-loaded by other systems: matching needs their statistics (not autovacuum's)
        analyze_if_stale(s, ("check_payments", "payment_accounts"))
        gzipped = bool(self.options.get("gunzip")) and stream.read(2) == b"\x1f\x8b"
        stream.seek(0)
        source = cast(BinaryIO, _Gunzip(stream)) if gzipped else stream
        reader = AchReader(source, self.policy(conf))
        header: FileHeader | None = None
        candidates = payees
        batches: list[BatchInfo] = []
        batch: BatchInfo | None = None
        payee: Payee | None = None
        not_returns = 0
        with behind:  # the last chunk's writes are done when the block ends
            for line, rec in reader:
                if isinstance(rec, FileHeader):
                    header = rec
                    candidates = self._match_header(rec, payees, line)
                elif isinstance(rec, BatchHeader):
                    payee = self._match_batch(rec, candidates, payees, line)
                    batch = BatchInfo(rec.batch_number, line, rec.company_name.strip(),
                                      rec.company_identification.strip(), rec.standard_entry_class, payee.name)
                    batches.append(batch)
                elif isinstance(rec, Entry) and batch is not None and payee is not None:
                    batch.entries += 1
                    if rec.detail.transaction_code in DEBIT_CODES:
                        batch.debit += rec.amount
                    else:
                        batch.credit += rec.amount
                    ret, noc = rec.return_result, rec.noc_result
                    if ret is None and noc is None:
                        not_returns += 1
                    applier.pending.append(_Item(line, payee, batch, rec, ret, noc))
                    if len(applier.pending) >= conf.returns_chunk:
                        if reader.error_count:
                            break  # invalid: everything rolls back; skip the work
                        applier.flush()
            reader.raise_if_errors()
            applier.flush()
        counts = {"batches": len(batches), "entries": sum(b.entries for b in batches),
                  "returns": applier.counts["returns"], "prenote_returns": applier.counts["prenote_returns"],
                  "nocs": applier.counts["nocs"], "exceptions": len(applier.exceptions),
                  "not_returns": not_returns}
        totals = {"debit": sum(b.debit for b in batches), "credit": sum(b.credit for b in batches),
                  "returned_amount": applier.returned_amount}
        self._report(s, ctx, log_id, header, batches, applier, counts, totals)
        ack_name = None
        if self._ack_enabled(conf):
            ack_name = self._ack(ctx, conf, header, batches, applier, counts, totals, log_id)
        return HandlerResult(counts=counts, totals=totals,
                             summary={"log_id": log_id, "payees": sorted({b.payee for b in batches}),
                                      "ack": ack_name},
                             warnings=[*reader.warnings, *(e.issue() for e in applier.exceptions)][:100])

    # -- matching -----------------------------------------------------------------------------
    @staticmethod
    def _match_header(h: FileHeader, payees: list[Payee], line: int) -> list[Payee]:
        """Seed 001: immediate origin/destination (and names) as configured, or swapped."""
        d, o = h.immediate_destination.strip(), h.immediate_origin.strip()
        dn, on = _norm(h.immediate_destination_name), _norm(h.immediate_origin_name)

        def names_ok(a: str, b: str) -> bool:
            return not a or not b or a == b

        out = []
        for p in payees:
            s = p.settings
            pdn, pon = _norm(s.immediate_destination_name), _norm(s.immediate_origin_name)
            straight = (d, o) == (s.immediate_destination, s.immediate_origin) and names_ok(dn, pdn) \
                and names_ok(on, pon)
            swapped = (d, o) == (s.immediate_origin, s.immediate_destination) and names_ok(dn, pon) \
                and names_ok(on, pdn)
            if straight or swapped:
                out.append(p)
        if not out:
            raise Rejected(
                f"file header immediate destination {d!r} / origin {o!r} ({dn or '-'} / {on or '-'}) match no "
                f"ACH payee, also swapped", [Issue(code=IssueCode.UNKNOWN_ORIGINATOR, line=line, record="FileHeader",
                                                   field="immediate_origin", columns=(14, 23), value=o,
                                                   reason="no payee has these immediate fields")],
                code=IssueCode.UNKNOWN_PAYEE)
        return out

    @staticmethod
    def _match_batch(b: BatchHeader, candidates: list[Payee], payees: list[Payee], line: int) -> Payee:
        """Company name and id, first among the payees of the header, then among all payees."""
        name, cid = _norm(b.company_name), b.company_identification.strip()
        for pool in (candidates, payees):
            for p in pool:
                if _norm(p.settings.company_name) == name and p.settings.company_id.strip() == cid:
                    return p
        raise Rejected(f"batch {b.batch_number} (line {line}): company {name!r} id {cid!r} matches no payee",
                       [Issue(code=IssueCode.UNKNOWN_COMPANY, line=line, record="BatchHeader", field="company_name",
                              columns=(5, 20), value=b.company_name,
                              reason=f"company {name!r} / {cid!r} matches no payee")],
                       code=IssueCode.UNKNOWN_PAYEE)

    # -- reports ------------------------------------------------------------------------------
    @staticmethod
    def _report(s: UnitSession, ctx: FileContext, log_id: int, header: FileHeader | None, batches: list[BatchInfo],
                a: _Applier, counts: dict[str, int], totals: dict[str, int]) -> None:
        rows: list[tuple[str, object]] = [
            ("report_type", "exception"), ("report_date", ctx.now.astimezone().date().isoformat()),
            ("gateway", "ACH"), ("report_creation_time", ctx.now.isoformat(timespec="seconds")),
            ("job", ctx.job_name), ("file", ctx.file.original_name), ("ledger_id", ctx.file.id)]
        rows += [("payee", p) for p in sorted({b.payee for b in batches})]
        rows += [(k, v) for k, v in counts.items()]
        rows += [(f"total_{k}", v) for k, v in totals.items()]
        rows += [("returned_payment", f"{pid}|{payer}|{amt}|{code}|{day}") for pid, payer, amt, code, day in a.returned]
        rows += [("exception", f"{e.line}|{e.trace}|{e.code}|{e.amount}|{e.reason}") for e in a.exceptions]
        write_log(s, log_id, rows)

    def _ack(self, ctx: FileContext, conf: AchSettings, header: FileHeader | None, batches: list[BatchInfo],
             a: _Applier, counts: dict[str, int], totals: dict[str, int], log_id: int) -> str:

        xml = build_ack(ctx, header, batches, [(e.line, e.trace, e.code, e.reason) for e in a.exceptions],
                        counts, totals, log_id)
        data = render(xml, ctx.settings.path(conf.ack.xslt) if conf.ack.xslt else None)
        stem = ctx.file.original_name.rsplit(".", 1)[0]
        name = conf.ack.name.format(stem=stem, name=ctx.file.original_name, id=ctx.file.id)
        with ctx.unit.outbound(conf.ack.target, name) as out:
            out.write(data)
            out.records = 1
            out.item("spool_file", ctx.file.id)
            out.summary = {"file": ctx.file.original_name, "status": "ACCEPTED", **counts}
        return name
