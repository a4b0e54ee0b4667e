"""ar.extract: the XML extract, an XSLT-transformed text file, and clear failures for bad stylesheets."""

from __future__ import annotations

from pathlib import Path

from lxml import etree
from sqlalchemy import select

from store.models.ach import CheckStatus
from store.models.core import OutboundFile

QUERY = """<?xml version="1.0"?>
<arQuery>
  <query name="checkQuery" table="check_payments">
    <status>paid</status>
    <status>7</status>
    <payDateWithinDays>30</payDateWithinDays>
    <payee>BCBS</payee>
  </query>
  <query name="cardQuery" table="creditcard_payments"/>
</arQuery>
"""

FLAT = """<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text" encoding="UTF-8"/>
  <xsl:template match="/arExtract">
    <xsl:text>H|</xsl:text><xsl:value-of select="@count"/><xsl:text>|</xsl:text><xsl:value-of select="@total"/>
    <xsl:text>&#10;</xsl:text>
    <xsl:for-each select="payments/payment">
      <xsl:value-of select="paymentId"/>|<xsl:value-of select="payerAccountNumber"/>|<xsl:value-of select="amount"/>
      <xsl:text>&#10;</xsl:text>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>
"""


def _env(refunds_env, tmp_path: Path, **options):
    (tmp_path / "arQuery.xml").write_text(QUERY)
    return refunds_env(outbound={"ar_out": {"folder": "ar/out", "signal": "summary"}},
                       jobs={"ar": {"kind": "ar.extract", "every": "1 day",
                                    "options": {"query_file": "arQuery.xml", **options}}})


def _payments(env) -> list[int]:
    payee, other = env.payee("BCBS"), env.payee("OTHER")
    return [env.payment(payee, "ACC1", 12345, CheckStatus.PAID, 3),
            env.payment(payee, "ACC2", 500, CheckStatus.PROCESSED, 1),
            env.payment(payee, "ACC3", 700, CheckStatus.SCHEDULED, 0),
            env.payment(payee, "ACC4", 900, CheckStatus.PAID, 90),
            env.payment(other, "ACC5", 100, CheckStatus.PAID, 1)]


def _out(tmp_path: Path) -> Path:
    return tmp_path / "spool/ar/out"


def test_extract_without_xslt_is_the_xml_document(refunds_env, tmp_path):
    env = _env(refunds_env, tmp_path)
    ids = _payments(env)
    r = env.job("ar")
    assert r.outcome == "success" and r.counts == {"payments": 2, "total_cents": 12845}
    files = sorted(p.name for p in _out(tmp_path).iterdir())
    assert len(files) == 2 and files[0].endswith(".xml") and files[1] == files[0] + ".done"
    doc = etree.parse(str(_out(tmp_path) / files[0])).getroot()
    assert (doc.tag, doc.get("count"), doc.get("total")) == ("arExtract", "2", "128.45")
    pays = doc.findall("payments/payment")
    assert [int(p.findtext("paymentId") or 0) for p in pays] == ids[:2]
    assert [p.findtext("amount") for p in pays] == ["123.45", "5.00"]
    assert pays[0].findtext("bankAccount") == "*****6789" and pays[0].findtext("status") == "paid"
    assert b"123456789" not in (_out(tmp_path) / files[0]).read_bytes()
    with env.db.transaction() as s:
        row = s.scalar(select(OutboundFile))
        assert (row.target, row.name, row.records, row.state) == ("ar_out", files[0], 2, "delivered")
        assert sorted((i.kind, int(i.ref), i.amount) for i in row.items) == [
            ("check_payment", ids[0], 12345), ("check_payment", ids[1], 500)]


def test_extract_with_xslt_writes_the_transformed_text(refunds_env, tmp_path):
    (tmp_path / "flat.xsl").write_text(FLAT)
    env = _env(refunds_env, tmp_path, xslt="flat.xsl", extension="dat")
    ids = _payments(env)
    assert env.job("ar").outcome == "success"
    [data] = [p for p in _out(tmp_path).iterdir() if p.suffix == ".dat"]
    assert data.read_text() == f"H|2|128.45\n{ids[0]}|ACC1|123.45\n{ids[1]}|ACC2|5.00\n"
    assert (data.parent / (data.name + ".done")).exists()


def test_malformed_xslt_is_a_clear_job_failure(refunds_env, tmp_path):
    from daemon.validate import validate

    (tmp_path / "bad.xsl").write_text(FLAT.replace("</xsl:template>", "</xsl:templat>"))
    env = _env(refunds_env, tmp_path, xslt="bad.xsl")
    _payments(env)
    r = env.job("ar")
    assert r.outcome == "failure"
    assert "ArConfigError: AR XSLT" in r.message and "bad.xsl is not well-formed XML (line 11" in r.message
    assert not _out(tmp_path).exists() or list(_out(tmp_path).iterdir()) == []
    assert any("bad.xsl is not well-formed XML" in p for p in validate(env.settings, check_filesystem=False))


def test_stylesheet_may_not_read_local_files(refunds_env, tmp_path):
    sneaky = FLAT.replace('<xsl:text>H|</xsl:text>', '<xsl:value-of select="document(\'/etc/passwd\')"/>')
    (tmp_path / "sneaky.xsl").write_text(sneaky)
    env = _env(refunds_env, tmp_path, xslt="sneaky.xsl")
    _payments(env)
    r = env.job("ar")
    assert r.outcome == "failure" and "read rights for /etc/passwd denied" in r.message
    assert not _out(tmp_path).exists() or list(_out(tmp_path).iterdir()) == []


def test_card_query_is_refused(refunds_env, tmp_path):
    env = _env(refunds_env, tmp_path, card_query="cardQuery")
    r = env.job("ar")
    assert r.outcome == "failure" and "card payments cannot be extracted" in r.message
