"""All typed models, imported here so alembic and the app see one metadata."""

from store.models import ach, ach_import, alerts, bills, checkfree, console, pbs, recurring  # noqa: F401
from store.models.core import (
    TERMINAL_STATES,
    FetchedRemote,
    FileState,
    JobRun,
    JobState,
    Notification,
    NotificationAttachment,
    OutboundFile,
    OutboundItem,
    OutboundState,
    SpoolFile,
)

__all__ = [
    "TERMINAL_STATES",
    "FetchedRemote",
    "FileState",
    "JobRun",
    "JobState",
    "Notification",
    "NotificationAttachment",
    "OutboundFile",
    "OutboundItem",
    "OutboundState",
    "SpoolFile",
]
