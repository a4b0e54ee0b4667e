"""CheckFree CDP channel: PGP and SFTP stages around the CDP files (seed 001).

Inbound: ``in/ftp`` (encrypted) → ``checkfree.decrypt`` → plaintext staged into
``in/bd`` (original filed to ``in/history_pgp``) → ``checkfree.inbound`` →
``in/history``. Outbound: check-submit writes the debit file to ``out/bd``
(:func:`handlers.checkfree.debit.write_debit_file`) → ``checkfree.outbound``
copies it to ``out/history``, encrypts it into ``out/ftp``, uploads it and
removes it once the upload is confirmed.
"""

HANDLERS = {
    "checkfree.decrypt": "handlers.checkfree.decrypt:DecryptHandler",
    "checkfree.inbound": "handlers.checkfree.inbound:CheckFreeInboundHandler",
}
JOBS = {
    "checkfree.outbound": "handlers.checkfree.jobs:OutboundJob",
    "checkfree.download": "handlers.checkfree.jobs:DownloadJob",
    "checkfree.clear": "handlers.checkfree.jobs:ClearJob",
}
SECTIONS = {
    "checkfree": "handlers.checkfree.settings:CheckFreeSettings",
}
