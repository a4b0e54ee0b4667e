"""Housekeeping jobs (seed 000 "Audit Purge", "Notification Purge") and spool history purge."""

JOBS = {
    "housekeeping.audit-purge": "handlers.housekeeping.audit:AuditPurgeJob",
    "housekeeping.notification-purge": "handlers.housekeeping.notifications:NotificationPurgeJob",
    "housekeeping.spool-purge": "handlers.housekeeping.spool:SpoolPurgeJob",
}
