"""One outbound ACH file in a unit of work, for every job that writes one (check-submit, prenotes).

The pieces both writers need and must agree on: a file name free in the target, the file ID
modifier of the destination/origin and day, the trace numbers from one counter per ODFI (the
counters are locked on first use and saved only when the file is written, so a rollback gives
the numbers back), and the writer's small writes buffered into large ones.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import select

from formats.nacha.records.file_control import FileControl
from formats.nacha.writer import AchWriter, BatchSpec, FileSpec, Payment
from handlers.ach.settings import PayeeSettings
from handlers.ach.store import Sequence as Counter
from handlers.ach.store import file_id_modifier
from store.config import Settings
from store.session import UnitSession
from store.unit import OutboundHandle, Work

#: the transaction codes spoolgate writes, by account type
DEBIT_CODE = {"checking": 27, "saving": 37}
CREDIT_CODE = {"checking": 22, "saving": 32}
ACCOUNT_TYPE_OF_CODE = {22: "checking", 23: "checking", 27: "checking", 28: "checking",
                        32: "saving", 33: "saving", 37: "saving", 38: "saving"}


class _Buffered:
    """Collects the writer's small writes into large ones for the staging file."""

    def __init__(self, out: OutboundHandle) -> None:
        self.out = out
        self.buf = io.BytesIO()
        self.lines = 0

    def write(self, data: bytes) -> int:
        self.lines += data.count(b"\n")
        self.buf.write(data)
        if self.buf.tell() >= 1 << 20:
            self.flush()
        return len(data)

    def flush(self) -> None:
        self.out.write(self.buf.getvalue())
        self.buf = io.BytesIO()


class _Switch:
    """The writer's trace sequence, switched to the counter of each batch's ODFI."""

    current: Counter | None = None

    def __call__(self) -> int:
        assert self.current is not None
        return self.current()


class AchFileOut:
    """The ACH file being written: batches in, trace numbers out; :meth:`close` writes the file control."""

    def __init__(self, session: UnitSession, out: OutboundHandle, spec: FileSpec, counters: dict[str, Counter]) -> None:
        self.session = session
        self.out = out
        self.name = out.name
        self._buf = _Buffered(out)
        self._seq = _Switch()
        self._counters = counters
        self._writer = AchWriter(self._buf, spec, next_sequence=self._seq)

    def write_batch(self, ps: PayeeSettings, batch: BatchSpec, pays: Iterable[Payment], *,
                    traces: list[str] | None = None) -> list[str]:
        """The batch's entries with trace numbers from the counter of the payee's ODFI (appended to
        ``traces`` as they are written, see :meth:`AchWriter.write_batch`)."""
        odfi8 = ps.odfi[:8]
        counter = self._counters.get(odfi8)
        if counter is None:
            counter = self._counters[odfi8] = Counter(self.session, f"trace:{odfi8}")
        self._seq.current = counter
        return self._writer.write_batch(batch, pays, traces=traces)

    def close(self) -> FileControl:
        control = self._writer.close()
        self._buf.flush()
        self.out.records = self._buf.lines
        return control


@contextmanager
def ach_file(uow: Work, settings: Settings, target: str, first: PayeeSettings,
             created: dt.datetime) -> Iterator[AchFileOut]:
    """An ACH file staged in ``uow`` under the immediate fields of ``first`` (payees share a file
    only with the same ones: :meth:`PayeeSettings.file_key`); the trace counters are saved after it."""
    s = uow.session
    name, created = _free_name(s, settings, target, first, created)
    modifier = file_id_modifier(s, f"{first.immediate_destination}:{first.immediate_origin}:{created:%y%m%d}")
    spec = FileSpec(first.immediate_destination, first.immediate_origin, created, modifier,
                    first.immediate_destination_name, first.immediate_origin_name)
    counters: dict[str, Counter] = {}
    with uow.outbound(target, name) as out:
        yield AchFileOut(s, out, spec, counters)
    for c in counters.values():
        c.save()


def _free_name(s: UnitSession, settings: Settings, target: str, ps: PayeeSettings,
               created: dt.datetime) -> tuple[str, dt.datetime]:
    """The file name for ``created``, a millisecond later while the name is taken in the target."""
    from store.models.core import OutboundFile

    folder = str(settings.outbound[target].folder)
    for _ in range(1000):
        name = ps.file_name(created)
        taken = s.scalar(select(OutboundFile.id).where(OutboundFile.folder == folder, OutboundFile.name == name))
        if taken is None and not (settings.outbound[target].folder / name).exists():
            return name, created
        created += dt.timedelta(milliseconds=1)
    raise RuntimeError(f"no free file name in {folder}")
