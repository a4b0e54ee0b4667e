"""Recurring and automatic payments, payment reminders, enrollment and card-expiry notices (seed 001
chapter 6 and its jobs pmtRecurringPayment, pmtPaymentReminder, pmtNotifyEnroll, pmtCreditCardExpNotify);
setups arrive from the customer portal through the ``setups`` channel (``formats/setups``)."""

HANDLERS = {
    "setups.load": "handlers.recurring.setups:SetupsHandler",
}
JOBS = {
    "recurring.payments": "handlers.recurring.payments:RecurringPaymentsJob",
    "recurring.reminders": "handlers.recurring.reminders:PaymentRemindersJob",
    "recurring.notify-enroll": "handlers.recurring.notices:NotifyEnrollJob",
    "recurring.card-expiry": "handlers.recurring.notices:CardExpiryJob",
}
