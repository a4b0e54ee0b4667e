"""PBS test helpers: config, the in-process pipeline, invoices and DB queries."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from daemon.pipeline import Outcome, Pipeline
from daemon.scheduler import RunSummary, Scheduler
from store.config import Settings
from store.db import Database
from store.models.pbs import Invoice
from tests.formats.pbs.helpers import CORPUS

__all__ = ["CORPUS", "PbsEnv", "invoice", "pbs_config"]


def pbs_config(root: Path, db_url: str, *, policy: str = "guide_examples", pbs: dict[str, Any] | None = None,
               jobs: dict[str, Any] | None = None, **over: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "base_dir": str(root), "spool_root": str(root / "spool"), "state_dir": str(root / "state"),
        "database_url": db_url, "workers": 2, "scan_interval_s": 1.0, "tick_ms": 20, "lease_s": 30,
        "transient_retry_s": 5.0, "watchdog_interval_s": 0.5, "shutdown_timeout_s": 20.0,
        "channels": {"pbs": {
            "inbox": "pbs/incoming_pbs_files", "work": "pbs/work", "processed": "pbs/processed_pbs_files",
            "error": "pbs/error_pbs_files", "completeness": "quiet", "quiet_ms": 200,
            "routes": [{"pattern": "*", "handler": "pbs.inbound", "options": {"policy": policy}}],
        }},
        "outbound": {"pbs_out": {"folder": "pbs/outgoing", "signal": "summary"}},
        "pbs": {"agreement_number": "000012345", "data_supplier_cvr": "12345678", "system_code": "BS2",
                "alert_recipients": ["ops@example.test"], **(pbs or {})},
        "jobs": {
            "pbs-package": {"kind": "pbs.package", "every": "1 day", "calendar": "dk-bank"},
            "pbs-settle": {"kind": "pbs.settle", "every": "1 day", "calendar": "dk-bank"},
            "pbs-alerts": {"kind": "pbs.alerts", "every": "30 s"},
            **(jobs or {}),
        },
    }
    cfg.update(over)
    return cfg


class PbsEnv:
    def __init__(self, root: Path, cfg: dict[str, Any]) -> None:
        self.root = root
        self.cfg = cfg
        self.settings = Settings(**cfg)
        ch = self.settings.channels["pbs"]
        for f in (ch.inbox, ch.work, ch.processed, ch.error):
            f.mkdir(parents=True, exist_ok=True)
        for o in self.settings.outbound.values():
            o.folder.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.settings.database_url)
        self.pipe = Pipeline(self.settings, self.db, identity="test")
        self.sched = Scheduler(self.settings, self.db, identity="test")

    @property
    def channel(self) -> Any:
        return self.settings.channels["pbs"]

    def drop(self, name: str, data: bytes) -> Outcome:
        path = self.channel.inbox / name
        path.write_bytes(data)
        fid = self.pipe.claim("pbs", path)
        assert fid is not None
        return self.pipe.process(fid)

    def error_report(self, name: str) -> dict[str, Any]:
        path = self.channel.error / name
        assert path.exists(), f"{name} not in error/: {list(self.channel.error.iterdir())}"
        report: dict[str, Any] = json.loads(Path(f"{path}.error.json").read_text())
        return report

    def processed(self, name: str) -> bool:
        return any(self.channel.processed.rglob(name))

    def job(self, name: str) -> RunSummary:
        return self.sched.run(name)

    def count(self, model: Any, *where: Any) -> int:
        with self.db.transaction() as s:
            return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    def rows(self, model: Any, *where: Any, order: Any = None) -> list[Any]:
        with self.db.transaction() as s:
            q = select(model).where(*where)
            q = q.order_by(order if order is not None else model.id)
            return list(s.scalars(q))

    def add_invoices(self, *invoices: Invoice) -> None:
        with self.db.transaction() as s:
            s.add_all(invoices)

    def close(self) -> None:
        self.db.dispose()


def invoice(number: str, amount: int, *, customer: str = "700012", vat: int = 0, paid: int = 0,
            closed: bool = True, print_type: int = 10, **kw: Any) -> Invoice:
    return Invoice(invoice_number=number, customer_number=customer, invoice_date=dt.date(2024, 1, 2),
                   due_date=dt.date(2024, 2, 1), total_excl_vat=amount - vat, total_vat=vat, paid_amount=paid,
                   print_process_type_id=print_type, closed=closed, **kw)
