"""ACH channel (seed 001 check payments): check-submit, prenotes, returns/NOC/prenote returns,
clearing, risk-limit holds (seed 002), transmission acknowledgments and the seed 004 audit trail."""

HANDLERS = {
    "ach.returns": "handlers.ach.returns:AchReturnsHandler",
}
JOBS = {
    "ach.check-submit": "handlers.ach.jobs:CheckSubmitJob",
    "ach.submit-enroll": "handlers.ach.jobs:SubmitEnrollJob",
    "ach.confirm-enroll": "handlers.ach.jobs:ConfirmEnrollJob",
    "ach.clear-checks": "handlers.ach.jobs:ClearChecksJob",
}
SECTIONS = {
    "ach": "handlers.ach.settings:AchSettings",
}
