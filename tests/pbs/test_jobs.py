"""The PBS jobs: package (XML + zip, XSD), settle, alerts to a real SMTP server, transfer to a real sshd."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import uuid
import zipfile
from pathlib import Path

import pypdf
from lxml import etree

from daemon.mailer import Mailer
from formats.pbs import invoice_xml
from formats.pbs.writer import automatic_payment, build_0602, slip_payment
from store.models.core import FetchedRemote, JobRun, Notification
from store.models.pbs import (
    Invoice,
    InvoicePayment,
    OcrLine,
    PaymentSurplus,
    PbsAlert,
    PbsDelivery,
    PbsDocument,
)
from tests.pbs.helpers import invoice


def _outgoing(env) -> dict[str, Path]:
    folder = env.settings.outbound["pbs_out"].folder
    return {p.name: p for p in sorted(folder.iterdir())}


def test_package_writes_validated_xml_and_pdf_zip_per_chunk(pbs_env, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = pbs_env(pbs={"max_invoices_per_file": 2, "temp_dir": str(scratch)})
    archived = tmp_path / "spool/pbs/archive"
    archived.mkdir(parents=True)
    own_pdf = b"%PDF-1.4\n% the archive's own copy\n%%EOF\n"
    (archived / "own.pdf").write_bytes(own_pdf)
    env.add_invoices(invoice("1001", 10000, vat=2000), invoice("1002", 5000, paid=1000, debtor_name="Søren Ærø Åsgård",
                                                                   debtor_address=["Østre Allé 1"], post_code="8000",
                                                                   city="Aarhus", mandate_number="000000011"),
                     invoice("1003", 700),
                     invoice("2001", 100, print_type=7), invoice("2002", 100, closed=False),
                     invoice("2003", 100, delivery_identifier="D0000000000000001"), invoice("2004", 100, paid=100))
    [i1003] = env.rows(Invoice, Invoice.invoice_number == "1003")
    with env.db.transaction() as s:
        s.add(PbsDocument(invoice_id=i1003.id, file_name="own.pdf", path=str(archived / "own.pdf"),
                          sha256=hashlib.sha256(own_pdf).hexdigest(), size=len(own_pdf)))

    run = env.job("pbs-package")
    assert run.outcome == "success", run.message
    assert run.counts == {"deliveries": 2, "invoices": 3, "amount": 10000 + 4000 + 700}
    deliveries = env.rows(PbsDelivery)
    assert [(d.invoice_count, d.total_amount, d.state) for d in deliveries] == [
        (2, 14000, "packaged"), (1, 700, "packaged")]
    files = _outgoing(env)
    expected = set()
    for d in deliveries:
        expected |= {d.xml_name, d.zip_name, f"{d.xml_name}.done", f"{d.zip_name}.done"}
    assert set(files) == expected
    schema = etree.XMLSchema(etree.fromstring(invoice_xml.default_xsd()))
    first = deliveries[0]
    xml = files[first.xml_name].read_bytes()
    assert schema.validate(etree.fromstring(xml)), schema.error_log
    invoice_xml.validate(xml)
    doc = etree.fromstring(xml)
    ns = {"d": invoice_xml.NAMESPACE}
    assert [e.text for e in doc.iterfind("d:Invoices/d:Invoice/d:InvoiceNumber", ns)] == ["1001", "1002"]
    assert doc.findtext("d:Header/d:AgreementNumber", namespaces=ns) == "000012345"
    assert doc.findtext("d:Header/d:DocumentArchive", namespaces=ns) == first.zip_name
    with zipfile.ZipFile(files[first.zip_name]) as zf:
        names = zf.namelist()
        assert names == ["invoice_1001.pdf", "invoice_1002.pdf"]
        pdf = zf.read("invoice_1002.pdf")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for value in ("Faktura 1002", "Søren Ærø Åsgård", "Østre Allé 1", "8000 Aarhus", "Beløb / Amount due",
                  "40,00 DKK", "000000011", "01-02-2024", "700012"):
        assert value in text, (value, text)
    xml_invoice = doc.find("d:Invoices/d:Invoice[d:InvoiceNumber='1002']", ns)
    assert xml_invoice is not None and xml_invoice.findtext("d:Debtor/d:Name", namespaces=ns) == "Søren Ærø Åsgård"
    with zipfile.ZipFile(files[deliveries[1].zip_name]) as zf:
        assert zf.read("own.pdf") == own_pdf  # taken from the archive, not generated
    assert {p.name for p in archived.iterdir()} == {"own.pdf", "invoice_1001.pdf", "invoice_1002.pdf"}
    assert env.count(PbsDocument) == 3
    ready = {i.invoice_number: i.delivery_identifier for i in env.rows(Invoice)}
    assert ready["1001"] == ready["1002"] == first.identifier and ready["1003"] == deliveries[1].identifier
    assert ready["2001"] is None and ready["2002"] is None and ready["2004"] is None
    assert list(scratch.iterdir()) == []  # temporary zips cleaned up
    assert env.job("pbs-package").outcome == "noop"


def test_package_failing_xsd_writes_nothing(pbs_env, tmp_path):
    strict = invoice_xml.default_xsd().replace(b'<xs:pattern value="[0-9A-Za-z\\-/]{1,30}"/>',
                                               b'<xs:pattern value="[0-9]{1,3}"/>')
    assert strict != invoice_xml.default_xsd()
    xsd = tmp_path / "site.xsd"
    xsd.write_bytes(strict)
    env = pbs_env(pbs={"xsd": str(xsd)})
    env.add_invoices(invoice("12345", 100))
    run = env.job("pbs-package")
    assert run.outcome == "failure" and "InvoiceNumber" in run.message
    assert _outgoing(env) == {} and env.count(PbsDelivery) == 0
    assert env.rows(Invoice)[0].delivery_identifier is None
    assert list((tmp_path / "spool/pbs/archive").glob("*")) == [] and env.count(PbsDocument) == 0


def test_settle_matches_books_surplus_and_errors(pbs_env):
    env = pbs_env(policy="strict")
    env.add_invoices(invoice("INV-1", 10000), invoice("INV-2", 5000), invoice("INV-3", 8000), invoice("INV-5", 900))
    easter_saturday = dt.date(2024, 3, 30)
    data = build_0602([
        automatic_payment("7001", "INV-1", 10000, booking_date=easter_saturday),
        automatic_payment("7002", "INV-2", 6000),
        automatic_payment("7003", "INV-4", 1234),
        automatic_payment("7004", "INV-3", 8000, code="0237"),
        automatic_payment("7005", "INV-3", 8000, code="0239"),
        slip_payment("7006", "INV-5", 500, "ARCH0000001"),
    ], delivery_number="0000000555")
    assert env.drop("M602.BS1", data).state == "done"
    run = env.job("pbs-settle")
    assert run.outcome == "success", run.message
    assert run.counts == {"settled": 3, "error": 1, "ignored": 1, "exception": 1, "amount": 10000 + 6000 + 500}
    lines = {ln.customer_number: ln for ln in env.rows(OcrLine)}
    assert lines["7001"].status == "settled" and lines["7001"].status_reason is None
    assert lines["7002"].status == "settled" and "overpaid by 1000" in lines["7002"].status_reason
    assert lines["7003"].status == "error" and "'INV-4'" in lines["7003"].status_reason
    assert lines["7004"].status == "ignored" and lines["7005"].status == "exception"
    assert "no payment for it was received" in lines["7005"].status_reason
    assert lines["7006"].status == "settled" and "400 øre still outstanding" in lines["7006"].status_reason
    inv = {i.invoice_number: i for i in env.rows(Invoice)}
    assert (inv["INV-1"].paid_amount, inv["INV-2"].paid_amount, inv["INV-3"].paid_amount,
            inv["INV-5"].paid_amount) == (10000, 5000, 0, 500)
    payments = {p.ocr_line_id: p for p in env.rows(InvoicePayment)}
    assert payments[lines["7001"].id].booked_on == dt.date(2024, 4, 2)  # Easter Monday is a bank holiday
    assert payments[lines["7002"].id].amount == 5000
    [surplus] = env.rows(PaymentSurplus)
    assert (surplus.amount, surplus.invoice_id, surplus.status) == (1000, inv["INV-2"].id, "open")

    env.add_invoices(invoice("INV-4", 1234))
    again = env.job("pbs-settle")
    assert again.counts == {"settled": 1, "amount": 1234}
    assert env.rows(OcrLine, OcrLine.customer_number == "7003")[0].attempts == 2
    assert env.job("pbs-settle").outcome == "noop"
    assert env.count(InvoicePayment) == 4


def test_alert_mail_for_a_bad_file_reaches_the_smtp_server(pbs_env, smtp_server):
    env = pbs_env(smtp={"host": smtp_server.host, "port": smtp_server.port, "sender": "spoolgate@example.test"})
    assert env.drop("broken.BS1", b"BS002garbage\r\n").state == "error"
    run = env.job("pbs-alerts")
    assert run.counts == {"alerts": 1}
    assert env.job("pbs-alerts").outcome == "noop"  # one alert per file
    mailer = Mailer(env.settings.smtp, env.db, identity="test")
    assert mailer.send_pending() == 1
    [mail] = smtp_server.wait_for(1)
    msg = mail.message
    assert mail.rcpt_tos == ("ops@example.test",)
    assert "broken.BS1" in msg["Subject"]
    body = msg.get_content()
    assert "BS002" in body and "error_pbs_files" in body
    [alert] = env.rows(PbsAlert, order=PbsAlert.spool_file_id)
    [note] = env.rows(Notification)
    assert alert.notification_id == note.id and note.state == "sent"


def _sftp_config(server, base: Path, **over) -> dict:
    return {"host": server.host, "port": server.port, "user": server.user, "key_file": str(server.key_path),
            "key_passphrase": server.key_passphrase, "known_hosts": str(server.known_hosts),
            "upload_dir": str(base / "up"), "download_dir": str(base / "down"), "connect_timeout": 5,
            "read_timeout": 5, "transfer_timeout": 20, "retry_max_attempts": 2, "backoff_min": 0.05,
            "backoff_max": 0.1, **over}


def test_package_transfer_receive_settle_over_real_sftp(pbs_env, sshd_server):
    base = sshd_server.remote_root / uuid.uuid4().hex[:8]
    (base / "up").mkdir(parents=True)
    (base / "down").mkdir()
    env = pbs_env(policy="strict", pbs={"sftp": _sftp_config(sshd_server, base, delete_after_download=False)},
                  jobs={"pbs-transfer": {"kind": "pbs.transfer", "every": "1 h"}})
    env.add_invoices(invoice("5001", 25000, customer="8001"), invoice("5002", 7500, customer="8002"))
    assert env.job("pbs-package").outcome == "success"
    [delivery] = env.rows(PbsDelivery)
    payments = build_0602([automatic_payment("8001", "5001", 25000), automatic_payment("8002", "5002", 8000)],
                          delivery_number="0000000900", envelope=True)
    (base / "down" / "D0000900.BS1").write_bytes(payments)

    run = env.job("pbs-transfer")
    assert run.outcome == "success", run.message
    assert run.counts == {"downloaded": 1, "download_failed": 0, "uploaded": 2, "upload_failed": 0}
    remote = {p.name: p.read_bytes() for p in (base / "up").iterdir()}
    assert set(remote) == {delivery.xml_name, delivery.zip_name}
    invoice_xml.validate(remote[delivery.xml_name])
    with zipfile.ZipFile(io.BytesIO(remote[delivery.zip_name])) as zf:
        assert zf.namelist() == ["invoice_5001.pdf", "invoice_5002.pdf"]
    assert _outgoing(env) == {}
    kept = list((env.root / "spool/pbs/delivered").glob("DELIVERED_*/*"))
    assert sorted(p.name for p in kept) == sorted([delivery.xml_name, delivery.zip_name])
    assert kept[0].parent.name == f"DELIVERED_{dt.datetime.now().astimezone():%Y%m%d}"
    assert {p.name: p.read_bytes() for p in kept} == remote
    [delivery] = env.rows(PbsDelivery)
    assert delivery.state == "sent" and delivery.sent_at is not None
    assert env.count(FetchedRemote) == 1

    inbox_file = env.channel.inbox / "D0000900.BS1"
    assert inbox_file.read_bytes() == payments
    fid = env.pipe.claim("pbs", inbox_file)
    assert env.pipe.process(fid).state == "done"
    assert env.job("pbs-transfer").outcome == "noop"  # kept on the server, not fetched twice

    settle = env.job("pbs-settle")
    assert settle.counts == {"settled": 2, "amount": 33000}
    assert {i.invoice_number: i.outstanding for i in env.rows(Invoice)} == {"5001": 0, "5002": 0}
    assert [s.amount for s in env.rows(PaymentSurplus)] == [500]


def test_failed_upload_goes_to_the_error_folder_with_its_reason(pbs_env, sshd_server):
    base = sshd_server.remote_root / uuid.uuid4().hex[:8]
    (base / "down").mkdir(parents=True)
    env = pbs_env(pbs={"sftp": _sftp_config(sshd_server, base)},  # no remote "up" folder
                  jobs={"pbs-transfer": {"kind": "pbs.transfer", "every": "1 h"}})
    env.add_invoices(invoice("6001", 100))
    env.job("pbs-package")
    run = env.job("pbs-transfer")
    assert run.outcome == "failure" and "2 transfer(s) failed" in run.message
    assert _outgoing(env) == {}
    failed = env.root / "spool/pbs/upload_error"
    data = sorted(p.name for p in failed.iterdir() if not p.name.endswith(".error.json"))
    assert len(data) == 2
    report = json.loads((failed / f"{data[0]}.error.json").read_text())
    assert report["operation"] == "upload" and report["code"] == "remote_error" and report["reason"]
    assert env.rows(PbsDelivery)[0].state == "packaged"
    assert env.rows(JobRun, JobRun.job == "pbs-transfer")[0].outcome == "failure"
