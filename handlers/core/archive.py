"""The archive handler: records the file in the ledger and nothing else.

Useful for channels that only need files kept (CheckFree ``transumm``) and to
exercise the daemon core end to end. With ``ack_target`` it also writes a
one-line acknowledgment per file to that outbound target, which makes the
outbound path part of every core test.
"""

from __future__ import annotations

from typing import BinaryIO

from handlers.base import FileContext, Handler, HandlerResult

OPTIONS = {"ack_target"}


class ArchiveHandler(Handler):
    name = "archive"
    description = "record the file in the ledger; no other database change"

    known_options = OPTIONS
    batchable = True

    def check_options(self) -> list[str]:
        problems = super().check_options()
        target = self.options.get("ack_target")
        if target is not None and target not in self.settings.outbound:
            problems.append(f"ack_target {target!r} is not an outbound target")
        return problems

    def handle(self, ctx: FileContext, stream: BinaryIO) -> HandlerResult:
        lines = 0
        for _line in stream:
            lines += 1
        target = self.options.get("ack_target")
        if target:
            with ctx.unit.outbound(target, f"ack_{ctx.file.id:08d}_{ctx.file.original_name}.txt") as out:
                out.write(f"{ctx.file.original_name} {ctx.file.sha256} lines={lines}\n".encode())
                out.records = 1
                out.item("spool_file", ctx.file.id)
        return HandlerResult(counts={"lines": lines})
