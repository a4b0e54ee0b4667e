"""The ``[pbs]`` section: seed 003's parameter setup, folders and the SFTP endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from store.config import Settings


class PbsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: PBS.DIRECT_DEBIT.AGREEMENT_NUMBER
    agreement_number: str = Field(default="000000000", pattern=r"^\d{9}$")
    #: PBS.DIRECT_DEBIT.DATA_SUPPLIER_CVR
    data_supplier_cvr: str = Field(default="00000000", pattern=r"^\d{8}$")
    #: PBS.DIRECT_DEBIT.DATA_SUPPLIER_SYS_CODE
    system_code: str = Field(default="BS2", pattern=r"^[A-Z0-9]{3}$")
    #: PBS.DIRECT_DEBIT.PAYMENT_TYPE: 00 all payment types, 07 paper based
    payment_type: str = "00"
    #: PBS.DIRECT_DEBIT.TEST_MODE
    test_mode: bool = False
    #: the inbound channel (PBS.DIRECT_DEBIT.INCOMING_DIR is its inbox)
    channel: str = "pbs"
    #: outbound target the package job writes to and the transfer job uploads from
    outbound_target: str = "pbs_out"
    #: print_process_type_id of invoices collected through PBS
    print_process_type: int = 10
    max_invoices_per_file: int = Field(default=5000, ge=1)
    #: document archive folder for invoice PDFs (relative: under the spool root)
    archive_dir: Path = Path("pbs/archive")
    #: uploaded files are kept under ``delivered/DELIVERED_<date>``
    delivered_dir: Path = Path("pbs/delivered")
    #: files that failed to upload, each with ``NAME.error.json``
    upload_error_dir: Path = Path("pbs/upload_error")
    #: scratch folder for the zip being built (default: the system's)
    temp_dir: Path | None = None
    #: a site's own XML000 schema instead of the shipped template XSD
    xsd: Path | None = None
    #: ENGINE.GLOBAL_ALERT_GROUP_NAME; empty: ``smtp.alert_recipients``
    alert_recipients: tuple[str, ...] = ()
    #: spool.sftp.SftpEndpoint fields for the Nets server
    sftp: dict[str, Any] | None = None

    @field_validator("payment_type")
    @classmethod
    def _payment_type(cls, v: str) -> str:
        if v not in ("00", "07"):
            raise ValueError("payment_type must be 00 (all) or 07 (paper based)")
        return v

    def target_problems(self, settings: Settings) -> list[str]:
        """What is wrong with the outbound target the package job writes to and the transfer job
        uploads from (one check for both jobs)."""
        if self.outbound_target not in settings.outbound:
            return [f"pbs.outbound_target {self.outbound_target!r} is not an outbound target"]
        return []

    def alert_group(self, settings: Settings) -> tuple[str, ...]:
        return self.alert_recipients or settings.smtp.alert_recipients


def pbs_settings(settings: Settings) -> PbsSettings:
    from handlers.registry import section

    value: PbsSettings = section(settings, "pbs")
    return value
