"""Inbound: PGP decrypt stage and the CDP handler through the real pipeline, with DB assertions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from daemon.pipeline import Pipeline
from formats.checkfree import BatchHeader, BatchSummary, Detail
from store.db import Database
from store.models.ach import CheckPaymentHistory, CheckStatus, PaymentAccount
from store.models.checkfree import CheckfreeFile
from store.models.core import FileState, OutboundFile, SpoolFile
from tests.checkfree import helpers as h
from tests.formats.checkfree.helpers import inbound_bytes, inbound_name


@pytest.fixture
def env(tmp_path: Path, db_url: str, gpg_keys, pgp_home_factory):
    made: list[Database] = []

    def make(**over):
        home = pgp_home_factory(secret=(gpg_keys.ours,), public=(gpg_keys.partner,))
        settings = h.make_settings(h.config(tmp_path, db_url, gpg_keys, home.home, **over))
        db = Database(settings.database_url)
        made.append(db)
        return settings, db, Pipeline(settings, db)

    yield make
    for d in made:
        d.dispose()


def _details(ids: list[int], status: str, reason: str = "", **kw) -> list[Detail]:
    return [Detail(transaction_id=str(i), amount=1500 * n, status=status, reason_code=reason,
                   reference=h.MARKER, **kw) for n, i in enumerate(ids, start=1)]


def _run(pipe: Pipeline, channel: str, path: Path):
    fid = pipe.claim(channel, path)
    assert fid is not None
    return pipe.process(fid)


def _through(settings, pipe, partner, keys, name: str, plain: bytes, *, sign: bool = True):
    """Drop NAME.pgp in in/ftp, decrypt, then process the plaintext from in/bd."""
    ftp = settings.channels["cf_ftp"]
    enc = h.encrypt_for_us(partner, keys, plain, ftp.inbox / f"{name}.pgp", sign=sign)
    first = _run(pipe, "cf_ftp", enc)
    assert first.state == FileState.DONE, first.reason
    bd = settings.channels["cf_bd"].inbox / name
    assert bd.read_bytes() == plain
    return first, _run(pipe, "cf_bd", bd)


def test_good_file_decrypts_to_bd_then_applies_and_files_to_history(env, tmp_path, gpg_keys, partner_pgp):
    settings, db, pipe = env(require_signature=True)
    ids = h.add_payments(db, 3)
    name = inbound_name("confirm")
    plain = inbound_bytes("confirm", _details(ids[:2], "AC") + _details(ids[2:], "RJ", "E02"))

    first, second = _through(settings, pipe, partner_pgp, gpg_keys, name, plain)

    spool = tmp_path / "spool" / "checkfree" / "in"
    assert (spool / "history_pgp" / f"{name}.pgp").exists()
    assert not list((spool / "ftp").iterdir())
    assert second.state == FileState.DONE, second.reason
    assert second.path is not None and second.path.is_relative_to(spool / "history")
    assert second.path.read_bytes() == plain
    assert not (spool / "bd" / name).exists()
    assert h.statuses(db, ids) == {ids[0]: (CheckStatus.PROCESSED, None), ids[1]: (CheckStatus.PROCESSED, None),
                                   ids[2]: (CheckStatus.FAILED, "E02 invalid bank account number")}
    with db.transaction() as s:
        files = list(s.scalars(select(CheckfreeFile)))
        hist = list(s.scalars(select(CheckPaymentHistory)))
        dec = s.get(SpoolFile, first.file_id)
        out = s.scalar(select(OutboundFile).where(OutboundFile.name == name))
        assert dec is not None and dec.summary is not None and out is not None
        assert dec.summary["signer"] == gpg_keys.partner.fingerprint and dec.summary["signature_valid"]
        assert out.state == "delivered" and out.folder == str(spool / "bd")
        assert [(f.file_type, f.payee, f.client_id, f.detail_count, f.counts) for f in files] == [
            ("confirm", "acme", h.CLIENT, 3, {"accepted": 2, "failed": 1})]
        assert [(r.payment_id, r.status, r.audit_operation, r.job_name) for r in hist] == [
            (ids[2], CheckStatus.FAILED, 1002, "cf_bd-checkfree.inbound")]
    # Plaintext exists only in in/bd's successor (history) and nowhere else.
    leaks = h.spool_files_containing(tmp_path, h.MARKER.encode())
    assert leaks == [second.path]


@pytest.mark.parametrize("case", ["wrong_key", "corrupt", "unsigned", "not_pgp"])
def test_bad_encrypted_file_goes_to_error_with_report_and_no_plaintext(env, tmp_path, gpg_keys, partner_pgp,
                                                                       pgp_home_factory, case):
    settings, db, pipe = env(require_signature=True)
    ids = h.add_payments(db, 1)
    name = inbound_name("returns")
    plain = inbound_bytes("returns", _details(ids, "RT", "R01"))
    inbox = settings.channels["cf_ftp"].inbox
    target = inbox / f"{name}.pgp"
    if case == "wrong_key":
        stranger_home = pgp_home_factory(public=(gpg_keys.stranger,))
        src = tmp_path / "src"
        src.write_bytes(plain)
        stranger_home.encrypt_file(src, target, [gpg_keys.stranger.fingerprint])
        src.unlink()
    elif case == "corrupt":
        h.encrypt_for_us(partner_pgp, gpg_keys, plain, target)
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 2])
    elif case == "unsigned":
        h.encrypt_for_us(partner_pgp, gpg_keys, plain, target, sign=False)
    else:
        target.write_bytes(plain)

    outcome = _run(pipe, "cf_ftp", target)

    assert outcome.state == FileState.ERROR
    err = tmp_path / "spool" / "checkfree" / "in" / "error_pgp" / target.name
    report = json.loads(Path(f"{err}.error.json").read_text())
    expected = {"wrong_key": "pgp_no_secret_key", "corrupt": "pgp_corrupt_input", "unsigned": "pgp_unsigned",
                "not_pgp": "pgp_not_pgp"}[case]
    assert report["code"] == expected, report
    assert err.exists() and not list((tmp_path / "spool" / "checkfree" / "in" / "bd").iterdir())
    with db.transaction() as s:
        assert s.scalar(select(OutboundFile.id)) is None
    assert h.statuses(db, ids) == {ids[0]: (CheckStatus.PROCESSED, None)}
    leaks = h.spool_files_containing(tmp_path, h.MARKER.encode())
    assert leaks == ([err] if case == "not_pgp" else [])


@pytest.mark.parametrize("name", ["acme.debit.dat.20240131235900.pgp", "test.acmeutil.confirm.txt.pgp",
                                  "prod.acmeutil.bogus.dat.20240131235900.pgp"])
def test_bad_name_in_ftp_is_rejected(env, tmp_path, partner_pgp, gpg_keys, name):
    settings, _db, pipe = env()
    target = h.encrypt_for_us(partner_pgp, gpg_keys, b"x", settings.channels["cf_ftp"].inbox / name)
    outcome = _run(pipe, "cf_ftp", target)
    assert outcome.state == FileState.ERROR
    report = json.loads((tmp_path / "spool/checkfree/in/error_pgp" / f"{name}.error.json").read_text())
    assert report["reason"] == "bad CheckFree file name" and report["code"] == "bad_name"


def test_bad_name_in_bd_is_rejected(env, tmp_path):
    settings, _db, pipe = env()
    path = settings.channels["cf_bd"].inbox / "test.acmeutil.confirm.dat.2024"
    path.write_bytes(inbound_bytes("confirm", []))
    outcome = _run(pipe, "cf_bd", path)
    assert outcome.state == FileState.ERROR
    report = json.loads((tmp_path / "spool/checkfree/in/error" / f"{path.name}.error.json").read_text())
    assert report["reason"] == "bad CheckFree file name"
    assert report["issues"][0]["value"] == path.name


def test_client_id_mismatch_changes_nothing(env, tmp_path):
    settings, db, pipe = env()
    ids = h.add_payments(db, 1)
    path = settings.channels["cf_bd"].inbox / inbound_name("returns")
    path.write_bytes(inbound_bytes("returns", _details(ids, "RT", "R01"), client_id="OTHER99"))
    outcome = _run(pipe, "cf_bd", path)
    assert outcome.state == FileState.ERROR
    report = json.loads((tmp_path / "spool/checkfree/in/error" / f"{path.name}.error.json").read_text())
    assert report["code"] == "client_id_mismatch"
    assert report["field"] == "client_id" and report["columns"] == [63, 72] and report["line"] == 1
    assert h.statuses(db, ids) == {ids[0]: (CheckStatus.PROCESSED, None)}
    with db.transaction() as s:
        assert s.scalar(select(CheckfreeFile.id)) is None


def test_tranjrnl_errors_fail_payments(env):
    settings, db, pipe = env()
    ids = h.add_payments(db, 2)
    path = settings.channels["cf_bd"].inbox / inbound_name("tranjrnl")
    path.write_bytes(inbound_bytes("tranjrnl", _details(ids[:1], "AC") + _details(ids[1:], "ER", "E03")))
    assert _run(pipe, "cf_bd", path).state == FileState.DONE
    st = h.statuses(db, ids)
    assert st[ids[0]] == (CheckStatus.PROCESSED, None)
    assert st[ids[1]][0] == CheckStatus.FAILED and (st[ids[1]][1] or "").startswith("E03")


def test_returns_and_noc_update_payment_and_account(env):
    settings, db, pipe = env()
    ids = h.add_payments(db, 2)
    with db.transaction() as s:
        s.add(PaymentAccount(pid="pid-2", user_id="user2", account_holder_name="Payer 2",
                             account_number="123456782", routing_transit="021000021", account_status="active"))
        from store.models.ach import CheckPayment

        p = s.get(CheckPayment, ids[1])
        assert p is not None
        p.pid = "pid-2"
    details = [*_details(ids[:1], "RT", "R01"),
               Detail(transaction_id=str(ids[1]), amount=3000, status="NC", reason_code="C01",
                      corrected_data="99988877766")]
    path = settings.channels["cf_bd"].inbox / inbound_name("returns")
    path.write_bytes(inbound_bytes("returns", details))
    outcome = _run(pipe, "cf_bd", path)
    assert outcome.state == FileState.DONE, outcome.reason
    assert outcome.counts["returned"] == 1 and outcome.counts["noc"] == 1
    assert h.statuses(db, ids) == {ids[0]: (CheckStatus.RETURNED, "R01"), ids[1]: (CheckStatus.NOC_RETURNED, "C01")}
    with db.transaction() as s:
        acct = s.get(PaymentAccount, "pid-2")
        assert acct is not None
        assert acct.account_number == "99988877766"
        assert acct.txn_message == "C01::99988877766::123456782" and acct.notify_status == "N"


@pytest.mark.parametrize("ftype", ["transumm", "setlment"])
def test_transumm_and_setlment_are_archived_and_recorded(env, tmp_path, ftype):
    settings, db, pipe = env()
    ids = h.add_payments(db, 1)
    status = "ST" if ftype == "setlment" else "AC"
    batch = BatchHeader(batch_no=1, effective_date=dt.date(2024, 2, 1), payee_number="0000012345",
                        summary=BatchSummary(1, 1500, "OK")) if ftype == "transumm" else None
    path = settings.channels["cf_bd"].inbox / inbound_name(ftype)
    path.write_bytes(inbound_bytes(ftype, [Detail(transaction_id=str(ids[0]), amount=1500, status=status,
                                                  status_date=dt.date(2024, 2, 2))], batch=batch))
    outcome = _run(pipe, "cf_bd", path)
    assert outcome.state == FileState.DONE, outcome.reason
    assert outcome.path is not None and outcome.path.is_relative_to(tmp_path / "spool/checkfree/in/history")
    assert h.statuses(db, ids) == {ids[0]: (CheckStatus.PROCESSED, None)}
    with db.transaction() as s:
        rows = [(f.file_type, f.detail_count, f.total_amount, f.counts) for f in s.scalars(select(CheckfreeFile))]
    assert rows == [(ftype, 1, 1500, {"archived": 1})]


def test_corrupt_cdp_content_rolls_back_the_whole_file(env, tmp_path):
    settings, db, pipe = env()
    ids = h.add_payments(db, 2)
    data = inbound_bytes("confirm", _details(ids, "RJ", "E01"))
    lines = data.split(b"\r\n")
    lines[-2] = lines[-2][:20] + b"X" + lines[-2][21:]  # a letter in the trailer's count
    path = settings.channels["cf_bd"].inbox / inbound_name("confirm")
    path.write_bytes(b"\r\n".join(lines))
    assert _run(pipe, "cf_bd", path).state == FileState.ERROR
    assert h.statuses(db, ids) == {i: (CheckStatus.PROCESSED, None) for i in ids}
