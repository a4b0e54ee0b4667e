"""0000 file header: file type, system, FTP user, creation time, client and sender id.

The client id is what the update job compares with the payee's gateway setting
(seed 001 "CheckFree Logic") before it touches a single payment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from formats.checkfree.codec import Value


@dataclass(frozen=True, slots=True)
class FileHeader:
    file_type: str  #: the header's code, e.g. ``DEBIT``
    system: str
    ftp_user: str
    created: datetime
    file_seq: int
    client_id: str
    sender_id: str = ""
    line: int | None = field(default=None, compare=False)

    @classmethod
    def from_values(cls, v: Mapping[str, Value], line: int | None) -> FileHeader:
        created = v.get("created")
        return cls(file_type=str(v.get("file_type") or ""), system=str(v.get("system") or ""),
                   ftp_user=str(v.get("ftp_user") or ""),
                   created=created if isinstance(created, datetime) else datetime.min,
                   file_seq=_int(v.get("file_seq")), client_id=str(v.get("client_id") or ""),
                   sender_id=str(v.get("sender_id") or ""), line=line)

    def to_values(self) -> dict[str, Value]:
        return {"file_type": self.file_type, "system": self.system, "ftp_user": self.ftp_user,
                "created": self.created, "file_seq": self.file_seq, "client_id": self.client_id,
                "sender_id": self.sender_id}


def _int(v: Value) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0
