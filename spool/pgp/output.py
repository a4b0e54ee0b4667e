"""gpg's output as it streams: into a ``spool.atomic.AtomicFile`` beside the destination, so
plaintext exists only where the caller asked, and only when gpg reported success."""

from __future__ import annotations

from pathlib import Path

from spool.atomic import AtomicFile


class GpgOutput:
    """python-gnupg's stdout hook on an atomic file (0600). A write error is kept, not raised in
    python-gnupg's reader thread, and reported by the caller after the run."""

    def __init__(self, dst: Path) -> None:
        self.dst = dst
        self.file = AtomicFile(dst, mode=0o600)
        self.write_error: OSError | None = None

    def on_data(self, data: bytes) -> bool:
        """python-gnupg's stdout hook; False keeps the chunk out of memory."""
        if data and self.write_error is None:
            try:
                self.file.write(data)
            except OSError as exc:
                self.write_error = exc
        return False

    @property
    def size(self) -> int:
        return self.file.size

    @property
    def sha256(self) -> str:
        return self.file.sha256

    def commit(self, overwrite: bool) -> None:
        """Make the output visible under its name; without ``overwrite`` an existing file wins."""
        self.file.publish(overwrite=overwrite)

    def discard(self) -> None:
        self.file.discard()
