"""Refund fixtures: a refunds channel, the submit job, payees and check payments to refund."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon.pipeline import Pipeline
from daemon.scheduler import Scheduler
from store.config import Settings
from store.db import Database, utcnow
from store.models.ach import CheckPayment, CheckStatus, PaymentPayee


def refunds_config(root: Path, db_url: str, **over: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "base_dir": str(root), "spool_root": str(root / "spool"), "state_dir": str(root / "state"),
        "database_url": db_url, "workers": 1, "transient_retry_s": 10.0,
        "channels": {"refunds": {
            "inbox": "refunds/in", "work": "refunds/work", "processed": "refunds/processed",
            "error": "refunds/error", "routes": [{"pattern": "*.xml", "handler": "refunds.load"}]}},
        "jobs": {"submit": {"kind": "refunds.submit", "every": "1 day"}},
        "refunds": {"selection_unit": "days", "selection_value": 90},
    }
    cfg.update(over)
    return cfg


class Env:
    def __init__(self, root: Path, settings: Settings, db: Database) -> None:
        self.root, self.settings, self.db = root, settings, db
        self.channel = settings.channels["refunds"]

    def load(self, name: str, data: bytes) -> str:
        self.channel.inbox.mkdir(parents=True, exist_ok=True)
        (self.channel.inbox / name).write_bytes(data)
        pipe = Pipeline(self.settings, self.db, identity="test")
        fid = pipe.claim("refunds", self.channel.inbox / name)
        assert fid is not None
        return pipe.process(fid).state

    def job(self, name: str = "submit") -> Any:
        return Scheduler(self.settings, self.db, identity="t").run(name)

    def payee(self, name: str = "BCBS") -> int:
        with self.db.transaction() as s:
            p = PaymentPayee(name=name)
            s.add(p)
            s.flush()
            return p.payee_id

    def payment(self, payee_id: int, payer_account: str, amount: int, status: CheckStatus, days_ago: int,
                **kw: Any) -> int:
        with self.db.transaction() as s:
            p = CheckPayment(payee_id=payee_id, payer_id="john", pay_date=utcnow().date() - dt.timedelta(days=days_ago),
                             status=int(status), routing_transit="021000021", account_name="John Doe",
                             check_account_number="123456789", amount=amount, payer_account_number=payer_account,
                             **kw)
            s.add(p)
            s.flush()
            return p.payment_id


@pytest.fixture
def refunds_env(tmp_path: Path, db_url: str) -> Iterator[Any]:
    made: list[Database] = []

    def make(**over: Any) -> Env:
        settings = Settings(**refunds_config(tmp_path, db_url, **over))
        db = Database(settings.database_url)
        made.append(db)
        return Env(tmp_path, settings, db)

    yield make
    for d in made:
        d.dispose()


def refund_xml(*rows: dict[str, str], root: str = "doc") -> bytes:
    body = "".join("   <refund>\n" + "".join(f"      <{k}>{v}</{k}>\n" for k, v in r.items()) + "   </refund>\n"
                   for r in rows)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>\n{body}</{root}>\n'.encode()
