"""Config, payments and partner-side files for the CheckFree channel tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from spool.pgp import PgpHome
from store.config import Settings
from store.db import Database
from store.models.ach import CheckPayment, CheckStatus, PaymentPayee
from tests.fixtures.gpg import FAST_AGENT, GpgKeys

CLIENT = "CLIENT01"
FTP_USER = "acmeutil"
MARKER = "PLAINMARK7f3a"


def config(root: Path, db_url: str, keys: GpgKeys, home: Path, *, sftp: dict[str, Any] | None = None,
           require_signature: bool = False, **over: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "base_dir": str(root), "spool_root": str(root / "spool"), "state_dir": str(root / "state"),
        "database_url": db_url, "transient_retry_s": 5.0,
        "channels": {
            "cf_ftp": {"inbox": "checkfree/in/ftp", "work": "checkfree/in/ftp_work",
                       "processed": "checkfree/in/history_pgp", "error": "checkfree/in/error_pgp",
                       "dated": False, "quiet_ms": 100,
                       "routes": [{"pattern": "*", "handler": "checkfree.decrypt"}]},
            "cf_bd": {"inbox": "checkfree/in/bd", "work": "checkfree/in/bd_work",
                      "processed": "checkfree/in/history", "error": "checkfree/in/error", "quiet_ms": 100,
                      "routes": [{"pattern": "*", "handler": "checkfree.inbound"}]},
        },
        "checkfree": {
            "payees": {"acme": {"client_id": CLIENT, "sender_id": "SENDER01", "ftp_user": FTP_USER,
                                "mode": "test", "payee_number": "0000012345", "payee_short_name": "UTILBILLS",
                                "payee_name": "Acme Utility Co", "payee_city": "Springfield",
                                "payee_state": "IL", "payee_zip": "62701"}},
            "pgp": {"home": str(home), "recipient": keys.partner.fingerprint, "our_key": keys.ours.fingerprint,
                    "passphrase": keys.ours.passphrase, "require_signature": require_signature,
                    "trusted_signers": [keys.partner.fingerprint], "timeout_s": 30,
                    "agent_options": list(FAST_AGENT)},
            "work_dir": str(root / "state" / "cfwork"),
        },
        "jobs": {"cf-out": {"kind": "checkfree.outbound", "every": "1 day"},
                 "cf-down": {"kind": "checkfree.download", "every": "1 day"},
                 "cf-clear": {"kind": "checkfree.clear", "every": "1 day"}},
    }
    if sftp is not None:
        cfg["sftp"] = {"checkfree": sftp}
    cfg.update(over)
    return cfg


def make_settings(cfg: dict[str, Any]) -> Settings:
    settings = Settings(**cfg)
    for ch in settings.channels.values():
        for f in (ch.inbox, ch.work, ch.processed, ch.error):
            f.mkdir(parents=True, exist_ok=True)
    return settings


def add_payments(db: Database, n: int = 3, *, status: int = CheckStatus.PROCESSED,
                 pay_date: dt.date = dt.date(2024, 2, 1)) -> list[int]:
    with db.transaction() as s:
        payee = PaymentPayee(name="acme", gateway="checkfree")
        s.add(payee)
        s.flush()
        ids = []
        for i in range(1, n + 1):
            p = CheckPayment(payee_id=payee.payee_id, payer_id=f"user{i}", pay_date=pay_date, status=int(status),
                             routing_transit="021000021", account_name=f"Payer {i}",
                             check_account_number=f"12345678{i}", amount=1500 * i,
                             payer_account_number=f"ACCT-{1000 + i}")
            s.add(p)
            s.flush()
            ids.append(p.payment_id)
    return ids


def statuses(db: Database, ids: list[int]) -> dict[int, tuple[int, str | None]]:
    with db.transaction() as s:
        return {i: (p.status, p.txn_err_msg) for i in ids if (p := s.get(CheckPayment, i)) is not None}


def encrypt_for_us(partner: PgpHome, keys: GpgKeys, plain: bytes, dst: Path, *, sign: bool = True) -> Path:
    src = dst.parent / f".src-{dst.name}"
    src.write_bytes(plain)
    try:
        partner.encrypt_file(src, dst, [keys.ours.fingerprint],
                             sign_with=keys.partner.fingerprint if sign else None,
                             passphrase=keys.partner.passphrase if sign else None)
    finally:
        src.unlink()
    return dst


def spool_files_containing(root: Path, marker: bytes) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``marker`` (plaintext leak scan)."""
    return [p for p in root.rglob("*") if p.is_file() and marker in p.read_bytes()]
