"""One remote SFTP endpoint as configured: where, who, which host key, which limits."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class SftpEndpoint(BaseModel):
    """One remote SFTP endpoint, as configured.

    The host key is pinned: only ``known_hosts`` is loaded (never the system or
    user files) and an unknown or changed key refuses the connection.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "sftp"
    host: str
    port: int = Field(default=22, ge=1, le=65535)
    user: str
    key_file: Path
    key_passphrase: SecretStr | None = None
    known_hosts: Path
    upload_dir: str = "."
    download_dir: str = "."
    download_pattern: str = "*"
    #: temporary remote name while uploading; ``{name}`` is the final name
    upload_temp_name: str = ".{name}.part"
    connect_timeout: float = Field(default=15.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    #: overall limit for one attempt of one file (connect included)
    transfer_timeout: float = Field(default=600.0, gt=0)
    retry_max_attempts: int = Field(default=5, ge=1)
    backoff_min: float = Field(default=2.0, ge=0)
    backoff_max: float = Field(default=120.0, ge=0)
    #: remove downloaded files on the server; if False (or the server refuses),
    #: the registry records them as fetched
    delete_after_download: bool = True

    @field_validator("upload_temp_name")
    @classmethod
    def _temp_has_name(cls, v: str) -> str:
        if "{name}" not in v or "/" in v:
            raise ValueError("upload_temp_name must contain {name} and no '/'")
        return v

    @model_validator(mode="after")
    def _backoff_order(self) -> SftpEndpoint:
        if self.backoff_max < self.backoff_min:
            raise ValueError("backoff_max must be >= backoff_min")
        return self
