"""ar.extract: payments for the accounts-receivable system, as XML or transformed by XSLT (seed 001 pmtARIntegrator).

The query file names the payments to extract, declaratively (no SQL in
config files)::

    <arQuery>
      <query name="checkQuery" table="check_payments">
        <status>paid</status>            <!-- repeatable; names or seed numbers -->
        <payDateWithinDays>7</payDateWithinDays>
        <modifiedWithinDays>1</modifiedWithinDays>
        <payee>BCBS</payee>
      </query>
    </arQuery>

Without ``query_file`` the job uses the shipped sample, ``etc/arQuery.xml``.

The job builds one XML document of the selected payments; with ``xslt`` it
transforms it (lxml, no file or network access from the stylesheet) into the
text the AR system reads. The result goes to the outbound target (``ar_out``)
with its signal file. A query file or stylesheet that is not well-formed XML,
or not a valid stylesheet, fails the run with that reason and writes nothing.
Card payments (``creditcard_payments``) are not stored by spoolgate, so a card
query is a configuration error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import select

from formats.bills import format_cents
from formats.errors import mask
from handlers.jobs import Job, JobContext, JobResult
from store.models.ach import CheckPayment, CheckStatus, PaymentPayee

OPTIONS = {"query_file", "check_query", "card_query", "xslt", "target", "extension", "name_prefix", "skip_empty"}
TABLES = ("check_payments",)


#: a stylesheet may not read or write files or touch the network
DENY_ALL = etree.XSLTAccessControl(read_file=False, write_file=False, create_dir=False,  # type: ignore[call-arg]
                                   read_network=False, write_network=False)


class ArConfigError(Exception):
    """The query file or the stylesheet cannot be used; the run fails with this reason."""


@dataclass(frozen=True)
class Query:
    name: str
    table: str
    statuses: tuple[int, ...] = ()
    pay_date_within_days: int | None = None
    modified_within_days: int | None = None
    payees: tuple[str, ...] = field(default=())


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True)


def parse_xml_file(path: Path, what: str) -> etree._ElementTree:
    try:
        tree = etree.parse(str(path), _parser())
    except OSError as exc:
        raise ArConfigError(f"{what} {path} cannot be read: {exc}") from exc
    except etree.XMLSyntaxError as exc:
        raise ArConfigError(f"{what} {path} is not well-formed XML (line {exc.lineno}): "
                            f"{exc.msg}") from exc
    if getattr(tree.docinfo, "doctype", ""):
        raise ArConfigError(f"{what} {path}: DOCTYPE declarations are not allowed")
    return tree


def load_queries(path: Path) -> dict[str, Query]:
    root = parse_xml_file(path, "AR query file").getroot()
    if root.tag != "arQuery":
        raise ArConfigError(f"AR query file {path}: the root element must be <arQuery>, found <{root.tag}>")
    out: dict[str, Query] = {}
    for q in root.iterchildren("query"):
        where = f"AR query file {path} line {q.sourceline}"
        name, table = q.get("name"), q.get("table")
        if not name or not table:
            raise ArConfigError(f"{where}: <query> needs name and table attributes")
        statuses: list[int] = []
        values: dict[str, Any] = {"payees": []}
        for child in q:
            text = (child.text or "").strip()
            if child.tag == "status":
                statuses.append(_status(text, where))
            elif child.tag in ("payDateWithinDays", "modifiedWithinDays"):
                if not text.isdigit():
                    raise ArConfigError(f"{where}: <{child.tag}> must be a whole number of days, not {text!r}")
                values["pay_date_within_days" if child.tag == "payDateWithinDays" else
                       "modified_within_days"] = int(text)
            elif child.tag == "payee":
                values["payees"].append(text)
            else:
                raise ArConfigError(f"{where}: unknown element <{child.tag}>")
        out[name] = Query(name, table, tuple(statuses), values.get("pay_date_within_days"),
                          values.get("modified_within_days"), tuple(values["payees"]))
    return out


def _status(text: str, where: str) -> int:
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        return int(CheckStatus[text.upper()])
    except KeyError:
        raise ArConfigError(f"{where}: unknown payment status {text!r}") from None


def load_xslt(path: Path) -> etree.XSLT:
    doc = parse_xml_file(path, "AR XSLT")
    try:
        return etree.XSLT(doc, access_control=DENY_ALL)
    except etree.XSLTParseError as exc:
        raise ArConfigError(f"AR XSLT {path} is not a valid stylesheet: {exc}") from exc


class ArExtractJob(Job):
    kind = "ar.extract"
    short_task = "ARIntgTsk"
    description = "extract payments for the AR system: XML, optionally transformed by XSLT, to ar_out"

    def _path(self, key: str) -> Path:
        p = Path(str(self.options[key]))
        return p if p.is_absolute() else self.settings.base_dir / p

    def _query_file(self) -> Path:
        if "query_file" in self.options:
            return self._path("query_file")
        from store import share

        return Path(str(share.find("etc/arQuery.xml")))

    known_options = OPTIONS

    def check_options(self) -> list[str]:
        problems = super().check_options()
        target = str(self.options.get("target", "ar_out"))
        if target not in self.settings.outbound:
            problems.append(f"target {target!r} is not an outbound target")
        try:
            self._queries()
            if self.options.get("xslt"):
                load_xslt(self._path("xslt"))
        except ArConfigError as exc:
            problems.append(str(exc))
        return problems

    def _queries(self) -> list[Query]:
        queries = load_queries(self._query_file())
        chosen = []
        for key, default in (("check_query", "checkQuery"), ("card_query", None)):
            name = self.options.get(key, default)
            if name is None:
                continue
            if name not in queries:
                raise ArConfigError(f"{key} {name!r} is not in the query file (has: {', '.join(sorted(queries))})")
            q = queries[name]
            if q.table not in TABLES:
                raise ArConfigError(f"query {name!r}: table {q.table!r} is not kept by spoolgate "
                                    f"(only {', '.join(TABLES)}); card payments cannot be extracted")
            chosen.append(q)
        return chosen

    def run(self, ctx: JobContext) -> JobResult:
        queries = self._queries()
        xslt = load_xslt(self._path("xslt")) if self.options.get("xslt") else None
        target = str(self.options.get("target", "ar_out"))
        root = etree.Element("arExtract", generated=ctx.now.isoformat(), job=self.name, run=str(ctx.run_id))
        n = total = 0
        with ctx.unit() as uow:
            s = uow.session
            payees = {pid: name for pid, name in s.execute(select(PaymentPayee.payee_id, PaymentPayee.name))}
            items: list[tuple[int, int]] = []
            for q in queries:
                el = etree.SubElement(root, "payments", query=q.name, table=q.table)
                for p in s.scalars(_select(q, payees, ctx.now)):
                    _payment(el, p, payees)
                    items.append((p.payment_id, p.amount))
                    n += 1
                    total += p.amount
            root.set("count", str(n))
            root.set("total", format_cents(total))
            if n == 0 and self.options.get("skip_empty"):
                return JobResult(outcome="noop", counts={"payments": 0})
            data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
            ext = "xml"
            if xslt is not None:
                try:
                    result = xslt(etree.fromstring(data, _parser()))
                except etree.XSLTApplyError as exc:
                    raise ArConfigError(f"AR XSLT {self._path('xslt')} failed: {exc}") from exc
                data = bytes(result)
                ext = str(self.options.get("extension", "txt")).lstrip(".")
            name = f"{self.options.get('name_prefix', 'ar')}_{ctx.now.astimezone():%Y%m%d%H%M%S}.{ext}"
            with uow.outbound(target, name) as out:
                out.write(data)
                out.records = n
                for pid, amount in items:
                    out.item("check_payment", pid, amount)
                out.summary = {"payments": n, "total": total, "xslt": bool(xslt)}
        return JobResult(outcome="success" if n else "noop", counts={"payments": n, "total_cents": total},
                         message=f"{target}/{name}")


def _select(q: Query, payees: dict[int, str], now: dt.datetime) -> Any:
    stmt = select(CheckPayment)
    if q.statuses:
        stmt = stmt.where(CheckPayment.status.in_(q.statuses))
    if q.pay_date_within_days is not None:
        stmt = stmt.where(CheckPayment.pay_date >= now.astimezone().date() - dt.timedelta(days=q.pay_date_within_days))
    if q.modified_within_days is not None:
        stmt = stmt.where(CheckPayment.last_modify_time >= now - dt.timedelta(days=q.modified_within_days))
    if q.payees:
        ids = [pid for pid, name in payees.items() if name in q.payees]
        stmt = stmt.where(CheckPayment.payee_id.in_(ids))
    return stmt.order_by(CheckPayment.payment_id)


def _payment(parent: etree._Element, p: CheckPayment, payees: dict[int, str]) -> None:
    el = etree.SubElement(parent, "payment")

    def sub(tag: str, value: object) -> None:
        if value is not None:
            etree.SubElement(el, tag).text = str(value)

    sub("paymentId", p.payment_id)
    sub("payee", payees.get(p.payee_id, str(p.payee_id)))
    sub("payerId", p.payer_id)
    sub("payerAccountNumber", p.payer_account_number)
    sub("billId", p.bill_id)
    sub("payDate", p.pay_date.isoformat())
    sub("status", _status_name(p.status))
    sub("amount", format_cents(p.amount))
    sub("amountCents", p.amount)
    sub("bankAccount", mask(p.check_account_number))
    sub("traceNumber", p.txn_number)
    sub("lastModified", p.last_modify_time.isoformat())


def _status_name(code: int) -> str:
    try:
        return CheckStatus(code).name.lower()
    except ValueError:
        return str(code)
