"""``checkfree.inbound``: apply a decrypted CDP file from ``in/bd`` (seed 001 "CheckFree Logic").

The name must follow the CheckFree rule (else ``bad CheckFree file name``); the
FTP user in it picks the payee and the header's client id must be that payee's,
before a single payment is touched. Then, per type:

- ``confirm``: a rejected payment → failed (-1) with the reason;
- ``tranjrnl``: a transaction in error → failed (-1);
- ``returns``: a return → returned (-4) with the ``Rnn`` code; a notification of
  change → noc_returned (-5), and the payment account corrected as for ACH;
- ``transumm``, ``setlment``: not applied; filed to history and recorded.

Every file is recorded in ``checkfree_files``. Any error in the file rolls the
whole file back (the pipeline's transaction).
"""

from __future__ import annotations

from typing import Any, BinaryIO

from sqlalchemy import select

from formats.checkfree import (
    BAD_NAME,
    BadFileName,
    CdpReader,
    Confirmation,
    JournalEntry,
    ReturnEntry,
    ReturnKind,
    parse_name,
)
from formats.checkfree.codec import record_name
from formats.checkfree.layout import Role
from formats.errors import FormatError, Issue, IssueCode, Severity
from handlers.base import FileContext, Handler, HandlerResult, Rejected
from handlers.checkfree import payments as pay
from handlers.checkfree import settings as cfs
from store.models.ach import CheckPayment, CheckStatus, PaymentPayee
from store.models.checkfree import CheckfreeFile

OPTIONS = {"payee", "update_account_on_noc"}
APPLIED = ("confirm", "tranjrnl", "returns")
ARCHIVED = ("transumm", "setlment")
#: states a CheckFree reply may move a payment out of
_SUBMITTED = (CheckStatus.PROCESSED,)
_RETURNABLE = (CheckStatus.PROCESSED, CheckStatus.PAID, CheckStatus.NOC_RETURNED)


class CheckFreeInboundHandler(Handler):
    name = "checkfree.inbound"
    accepts = ("*.*.*.dat.*",)
    description = "apply a CheckFree confirm/tranjrnl/returns file; archive transumm/setlment"

    known_options = OPTIONS

    def check_options(self) -> list[str]:
        problems = super().check_options()
        payee = self.options.get("payee")
        if payee is not None and payee not in cfs.checkfree(self.settings).payees:
            problems.append(f"payee {payee!r} is not in [checkfree.payees]")
        return problems

    def handle(self, ctx: FileContext, stream: BinaryIO) -> HandlerResult:
        name = ctx.file.original_name
        try:
            cdp = parse_name(name)
        except BadFileName as exc:
            raise Rejected(BAD_NAME, exc.issues, code=IssueCode.BAD_NAME) from None
        if cdp.file_type == "debit":
            raise Rejected("a debit file is outbound; CheckFree never sends one", code=IssueCode.WRONG_DIRECTION)
        cf = cfs.checkfree(self.settings)
        found = cf.payee_by_ftp_user(cdp.ftp_user)
        if found is None:
            raise Rejected(f"no CheckFree payee has ftp_user {cdp.ftp_user!r}", code=IssueCode.UNKNOWN_PAYEE)
        payee_name, payee = found
        wanted = self.options.get("payee")
        if wanted is not None and wanted != payee_name:
            raise Rejected(f"file belongs to payee {payee_name!r}, this route handles {wanted!r}",
                           code=IssueCode.OTHER_PAYEE)
        layout = cfs.checkfree(self.settings).layout
        reader = CdpReader(stream, expected_name=cdp, layout=_load(layout))
        header = reader.read_header()
        if header is None:
            raise FormatError(f"{cdp.file_type} file", reader.issues.errors, reader.issues.warnings)
        if header.client_id != payee.client_id:
            rl = reader.layout.record(Role.HEADER, cdp.file_type)
            f = rl.by_name("client_id")
            issue = Issue(code=IssueCode.CLIENT_ID_MISMATCH, reason="client id does not match the payee's setting",
                          line=header.line, record=record_name(rl), field="client_id",
                          columns=f.columns if f else None, value=header.client_id, expected=payee.client_id,
                          found=header.client_id)
            raise Rejected(f"client id {header.client_id!r} in the file does not match payee {payee_name!r} "
                           f"(client id {payee.client_id!r})", [issue], code=IssueCode.CLIENT_ID_MISMATCH)
        counts: dict[str, int] = {}
        warnings: list[Issue] = []
        payee_id = ctx.session.scalar(select(PaymentPayee.payee_id).where(PaymentPayee.name == payee_name))
        update_account = bool(self.options.get("update_account_on_noc", True))

        def bump(key: str) -> None:
            counts[key] = counts.get(key, 0) + 1

        for entry in reader:
            if cdp.file_type not in APPLIED:
                continue
            if not isinstance(entry, Confirmation | JournalEntry | ReturnEntry):
                continue
            payment = self._payment(ctx, entry.transaction_id, payee_id)
            if payment is None:
                bump("unmatched")
                warnings.append(Issue(code=IssueCode.UNMATCHED, reason="no CheckFree payment with this transaction id",
                                      line=entry.line, field="transaction_id", value=entry.transaction_id,
                                      severity=Severity.WARNING))
                continue
            if payment.amount != entry.amount:
                warnings.append(Issue(code=IssueCode.AMOUNT_DIFFERS, reason="amount differs from the payment's",
                                      line=entry.line, field="amount", value=str(entry.amount),
                                      expected=str(payment.amount), severity=Severity.WARNING))
            self._apply(ctx, payment, entry, bump, warnings, update_account)
        errors = reader.issues.errors
        if errors:
            raise FormatError(f"{cdp.file_type} file", reader.issues.errors, reader.issues.warnings)
        warnings.extend(reader.issues.warnings)
        if cdp.file_type in ARCHIVED:
            counts["archived"] = 1
        details = reader.counts.get(reader.layout.codes[Role.DETAIL], 0)
        ctx.session.add(CheckfreeFile(spool_file_id=ctx.file.id, name=name, file_type=cdp.file_type,
                                      payee=payee_name, system=cdp.system, client_id=header.client_id,
                                      stamp=cdp.created.strftime("%Y%m%d%H%M%S"), records=reader.records,
                                      detail_count=details, total_amount=reader.total_amount,
                                      counts=dict(counts) or None))
        return HandlerResult(counts={"records": reader.records, "details": details, **counts},
                             totals={"amount": reader.total_amount},
                             summary={"file_type": cdp.file_type, "payee": payee_name, "system": cdp.system},
                             warnings=warnings)

    @staticmethod
    def _payment(ctx: FileContext, txn_id: str, payee_id: int | None) -> CheckPayment | None:
        if not txn_id.isdigit():
            return None
        payment = ctx.session.get(CheckPayment, int(txn_id), with_for_update=True)
        if payment is None or (payee_id is not None and payment.payee_id != payee_id):
            return None
        return payment

    def _apply(self, ctx: FileContext, payment: CheckPayment, entry: Any, bump: Any, warnings: list[Issue],
               update_account: bool) -> None:
        def status(new: CheckStatus, error: str, reason: str) -> None:
            pay.set_status(ctx.session, payment, new, error=error, reason=reason, job_id=ctx.file.id,
                           job_name=ctx.job_name, now=ctx.now)

        def refused(kind: str) -> None:
            bump("skipped")
            warnings.append(Issue(code=IssueCode.STATUS_SKIPPED,
                                  reason=f"{kind} for a payment in status {payment.status}; left unchanged",
                                  line=entry.line, field="transaction_id", value=entry.transaction_id,
                                  severity=Severity.WARNING))

        if isinstance(entry, Confirmation):
            if entry.accepted:
                bump("accepted")
            elif payment.status in _SUBMITTED:
                status(CheckStatus.FAILED, f"{entry.reason_code} {entry.reason}",
                       f"CheckFree rejected: {entry.reason_code}")
                bump("failed")
            else:
                refused("rejection")
        elif isinstance(entry, JournalEntry):
            if not entry.failed:
                bump("accepted")
            elif payment.status in _SUBMITTED:
                status(CheckStatus.FAILED, f"{entry.reason_code} {entry.reason}".strip(),
                       f"CheckFree error out: {entry.status_code}")
                bump("failed")
            else:
                refused("error out")
        elif entry.kind is ReturnKind.RETURN:
            if payment.status in _RETURNABLE:
                status(CheckStatus.RETURNED, entry.code, f"returned {entry.code}")
                bump("returned")
            else:
                refused("return")
        else:
            if payment.status in _RETURNABLE:
                status(CheckStatus.NOC_RETURNED, entry.code, f"NOC {entry.code}")
                if pay.apply_noc(ctx.session, payment, entry.code, entry.corrected_data or "",
                                 update_account=update_account, job_id=ctx.file.id, job_name=ctx.job_name,
                                 now=ctx.now):
                    bump("accounts_updated")
                bump("noc")
            else:
                refused("notification of change")


def _load(path: Any) -> Any:
    if path is None:
        return None
    from formats.checkfree import load_layout

    return load_layout(path)
