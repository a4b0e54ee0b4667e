"""ACH channel (seed 001 check payments): check-submit, prenotes, returns/NOC/prenote returns,
clearing, risk-limit holds (seed 002), transmission acknowledgments and the seed 004 audit trail."""

HANDLERS = {
    "ach.returns": "handlers.ach.returns:AchReturnsHandler",
}
JOBS = {
    "ach.check-submit": "handlers.ach.submit:CheckSubmitJob",
    "ach.submit-enroll": "handlers.ach.enroll:SubmitEnrollJob",
    "ach.confirm-enroll": "handlers.ach.enroll:ConfirmEnrollJob",
    "ach.clear-checks": "handlers.ach.clear:ClearChecksJob",
}
SECTIONS = {
    "ach": "handlers.ach.settings:AchSettings",
}
