"""``pbs.package`` (seed 003's PBS Package Engine): invoices ready for PBS → one
``pbs_delivery`` per at most N invoices → the XML invoice delivery (validated
against the XSD) and a zip of the invoices' PDFs, both into the outgoing target.

Each delivery is one unit of work: the invoices get their delivery identifier,
the delivery row and both files commit together (the files appear, with their
signals, only after the commit). PDFs come from the document archive or are
generated and stored there. The zip is built in a scratch folder that is
removed whatever happens.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select

from formats.pbs import invoice_xml
from handlers.jobs import Job, JobContext, JobResult
from handlers.pbs.pdf import invoice_pdf
from handlers.pbs.settings import PbsSettings, pbs_settings
from spool import atomic, fsops
from store.models.pbs import DeliveryState, Invoice, PbsDelivery, PbsDocument
from store.unit import UnitSession, Work

OPTIONS = {"max_invoices_per_file", "max_files"}
_CHUNK = 1024 * 1024
#: what the XSD allows as a document name inside the zip
_ZIP_NAME = re.compile(r"[0-9A-Za-z_.\-]{1,100}\.pdf")


class PackageJob(Job):
    kind = "pbs.package"
    dry_run_safe = False  # moves files or talks to a remote system outside a unit of work
    description = "package invoices ready for PBS into an XML delivery and a zip of PDFs"
    short_task = "PkgTsk"

    known_options = OPTIONS

    def check_options(self) -> list[str]:
        problems = super().check_options()
        try:
            conf = pbs_settings(self.settings)
        except ValidationError:
            return problems  # reported for the [pbs] section itself
        return problems + conf.target_problems(self.settings)

    def run(self, ctx: JobContext) -> JobResult:
        conf = pbs_settings(ctx.settings)
        per_file = int(self.options.get("max_invoices_per_file", conf.max_invoices_per_file))
        max_files = int(self.options.get("max_files", 1000))
        xsd = conf.xsd.read_bytes() if conf.xsd else None
        deliveries = invoices = amount = 0
        while deliveries < max_files:
            with ctx.unit() as uow:
                made = self._one(ctx, uow, conf, per_file, xsd)
            if made is None:
                break
            deliveries += 1
            invoices += made[0]
            amount += made[1]
        if not deliveries:
            return JobResult(outcome="noop", message="no invoices ready for PBS")
        return JobResult(counts={"deliveries": deliveries, "invoices": invoices, "amount": amount},
                         message=f"{deliveries} delivery(ies), {invoices} invoice(s), {amount} øre")

    def _one(self, ctx: JobContext, uow: Work, conf: PbsSettings, per_file: int,
             xsd: bytes | None) -> tuple[int, int] | None:
        s = uow.session
        outstanding = Invoice.total_excl_vat + Invoice.total_vat - Invoice.paid_amount
        query = (select(Invoice)
                 .where(Invoice.print_process_type_id == conf.print_process_type, Invoice.closed.is_(True),
                        Invoice.delivery_identifier.is_(None), outstanding > 0)
                 .order_by(Invoice.id).limit(per_file))
        if not ctx.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        ready = list(s.scalars(query))
        if not ready:
            return None
        total = sum(i.outstanding for i in ready)
        delivery = PbsDelivery(state=DeliveryState.PACKAGED, created_at=ctx.now, invoice_count=len(ready),
                               total_amount=total, agreement_number=conf.agreement_number,
                               test_mode=conf.test_mode)
        s.add(delivery)
        s.flush()
        ident = f"D{delivery.id:016d}"
        delivery.identifier = ident
        delivery.xml_name = f"PBS_{ident}.xml"
        delivery.zip_name = f"PBS_{ident}.zip"
        archive = ctx.settings.path(conf.archive_dir)
        fsops.ensure_dir(archive)
        found: list[tuple[Invoice, PbsDocument | None, Path | None, str]] = []
        for inv in ready:
            doc, path = _archived(s, inv)
            name = doc.file_name if path is not None and doc is not None and _ZIP_NAME.fullmatch(doc.file_name) \
                else f"invoice_{_safe(inv.invoice_number)}.pdf"
            found.append((inv, doc, path, name))
            inv.delivery_identifier = ident
            inv.pbs_delivery_id = delivery.id
        header = invoice_xml.DeliveryHeader(
            delivery_id=delivery.id, created=ctx.now, data_supplier_cvr=conf.data_supplier_cvr,
            system_code=conf.system_code, agreement_number=conf.agreement_number,
            payment_type=conf.payment_type, test_mode=conf.test_mode, document_archive=delivery.zip_name)
        records = [_xml_invoice(inv, name) for inv, _d, _p, name in found]
        xml = invoice_xml.build(header, records)
        invoice_xml.validate(xml, xsd=xsd, template_checks=xsd is None)
        docs = [(inv, path if path is not None else _generate(s, inv, rec, doc, archive / name, ctx), name)
                for (inv, doc, path, name), rec in zip(found, records, strict=True)]
        scratch = Path(tempfile.mkdtemp(prefix="pbs-package-", dir=ctx.settings.path(conf.temp_dir)
                                        if conf.temp_dir else None))
        try:
            zip_path = scratch / delivery.zip_name
            with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for _inv, path, name in docs:
                    zf.write(path, arcname=name)
            with uow.outbound(conf.outbound_target, delivery.zip_name) as out, open(zip_path, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    out.write(chunk)
                out.records = len(docs)
                out.item("pbs_delivery", delivery.id, total)
                out.summary = {"pbs_delivery": delivery.id, "identifier": ident, "documents": len(docs)}
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        with uow.outbound(conf.outbound_target, delivery.xml_name) as out:
            out.write(xml)
            out.records = len(ready)
            for inv in ready:
                out.item("invoice", inv.invoice_number, inv.outstanding)
            out.summary = {"pbs_delivery": delivery.id, "identifier": ident, "invoices": len(ready),
                           "amount": total}
        ctx.log.info("pbs delivery %s: %d invoice(s), %d øre", ident, len(ready), total)
        return len(ready), total


def _archived(s: UnitSession, inv: Invoice) -> tuple[PbsDocument | None, Path | None]:
    """The invoice's archived PDF and its path, when the file is there unaltered."""
    doc = s.scalar(select(PbsDocument).where(PbsDocument.invoice_id == inv.id))
    if doc is None:
        return None, None
    path = Path(doc.path)
    try:
        return doc, (path if fsops.sha256_file(path)[0] == doc.sha256 else None)
    except FileNotFoundError:
        return doc, None


def _generate(s: UnitSession, inv: Invoice, record: invoice_xml.Invoice, doc: PbsDocument | None, path: Path,
              ctx: JobContext) -> Path:
    """Render the invoice's PDF from its XML record and store it in the document archive."""
    data = invoice_pdf(record)
    with atomic.AtomicFile(path) as out:  # recovery sweeps its temp file if this process dies
        out.write(data)
        out.publish(overwrite=True)
    digest = out.sha256
    if doc is None:
        s.add(PbsDocument(invoice_id=inv.id, file_name=path.name, path=str(path), sha256=digest, size=len(data),
                          generated=True, created_at=ctx.now))
    else:
        doc.file_name, doc.path, doc.sha256, doc.size, doc.generated = path.name, str(path), digest, len(data), True
    return path


def _safe(text: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in text)


def _xml_invoice(inv: Invoice, document: str) -> invoice_xml.Invoice:
    debtor = None
    if inv.debtor_name:
        debtor = invoice_xml.Debtor(name=inv.debtor_name, address_lines=tuple(inv.debtor_address or ()),
                                    post_code=inv.post_code, city=inv.city, country="DK")
    return invoice_xml.Invoice(invoice_number=inv.invoice_number, customer_number=inv.customer_number,
                               invoice_date=inv.invoice_date, due_date=inv.due_date, amount=inv.outstanding,
                               document=document, mandate_number=inv.mandate_number, debtor=debtor)
