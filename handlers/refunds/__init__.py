"""Refunds channel (seed 001 "pmtPaymentRefund Job"): LoadsRefunds (a file handler) and SubmitRefund (a job)."""

HANDLERS = {
    "refunds.load": "handlers.refunds.load:RefundLoadHandler",
}
JOBS = {
    "refunds.submit": "handlers.refunds.submit:RefundSubmitJob",
}
SECTIONS = {
    "refunds": "handlers.refunds.settings:RefundSettings",
}
