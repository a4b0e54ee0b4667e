"""PGP stage for files CheckFree sends: ``in/ftp`` → plaintext in ``in/bd``.

Runs on the channel whose inbox is ``in/ftp`` (its ``processed`` folder is
``in/history_pgp``, not dated: the encrypted original is kept there). gpg writes
the plaintext into the daemon's private work folder (0700), from where it is
copied into ``in/bd`` through the unit of work: it appears there under its name
only after the ledger commit, and a failure leaves no plaintext anywhere. Name
and signature problems send the encrypted file to error/ with the reason.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO

from formats.checkfree import BAD_NAME, BadFileName, parse_name
from formats.errors import Issue, IssueCode
from handlers.base import FileContext, Handler, HandlerResult, Rejected
from handlers.checkfree import settings as cfs

OPTIONS = {"require_signature", "output_folder"}
_CHUNK = 1 << 16


class DecryptHandler(Handler):
    name = "checkfree.decrypt"
    accepts = ("*.dat.*",)
    description = "decrypt a CheckFree file from in/ftp into in/bd (original kept in history_pgp)"

    known_options = OPTIONS

    def check_options(self) -> list[str]:
        problems = super().check_options()
        try:
            cfs.pgp_settings(self.settings)
        except KeyError as exc:
            problems.append(str(exc.args[0]))
        return problems

    def handle(self, ctx: FileContext, stream: BinaryIO) -> HandlerResult:
        from spool.pgp import PgpError

        name = ctx.file.original_name
        try:
            cdp = parse_name(name, allow_pgp=True)
        except BadFileName as exc:
            raise Rejected(BAD_NAME, exc.issues, code=IssueCode.BAD_NAME) from None
        plain_name = name[: -len(".pgp")] if cdp.pgp else name
        pgp = cfs.pgp_settings(self.settings)
        require = bool(self.options.get("require_signature", pgp.require_signature))
        out_folder = Path(self.options["output_folder"]) if "output_folder" in self.options \
            else cfs.folder(self.settings, "in_bd")
        out_folder = self.settings.path(out_folder)
        private = cfs.work_dir(self.settings) / f"{ctx.file.id}.{os.urandom(4).hex()}.plain"
        home = cfs.pgp_home(self.settings)
        try:
            try:
                result = home.decrypt_file(ctx.path, private, cfs.passphrase(self.settings),
                                           require_signature=require, trusted_signers=pgp.trusted_signers)
            except PgpError as exc:
                code = IssueCode(f"pgp_{exc.code}")  # one member per PgpErrorCode
                issue = Issue(code=code, reason=exc.reason, value=exc.key_id,
                              found="; ".join(exc.gpg_messages[-3:]) or None)
                raise Rejected(f"PGP {exc.operation} failed: {exc.code}: {exc.reason}", [issue],
                               code=code) from None
            with ctx.unit.outbound_to(out_folder, plain_name, mode=0o640) as out, open(private, "rb") as src:
                while chunk := src.read(_CHUNK):
                    out.write(chunk)
                out.item("spool_file", ctx.file.id)
                out.summary = {"decrypted_from": name, "signed": result.signed,
                               "signer": result.signer_fingerprint}
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(private)
        ctx.log.info("decrypted %s into %s/%s (%d bytes, signer %s)", name, out_folder, plain_name, result.size,
                     result.signer_fingerprint or "none")
        return HandlerResult(counts={"bytes": result.size},
                             summary={"plaintext": plain_name, "plaintext_sha256": result.sha256,
                                      "signed": result.signed, "signature_valid": result.signature_valid,
                                      "signer": result.signer_fingerprint, "file_type": cdp.file_type})
