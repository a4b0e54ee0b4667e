"""The ``[bills]`` section: defaults shared by the bill handler and jobs (route/job options override)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class BillsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: seed ``loaded.status``: LOADED waits for a manual publish, PUBLISHED is visible at once
    loaded_status: Literal["LOADED", "PUBLISHED"] = "PUBLISHED"
    #: seed ``data.compress``: keep each bill's document zlib-compressed instead of line-item rows
    data_compress: bool = True
    #: seed ``notification.onNoop.emails``: told when a bill file holds no bills
    noop_recipients: tuple[str, ...] = ()
    #: more accounts than this in one run uses the "many accounts" template
    few_accounts_max: int = Field(default=5, ge=2)
