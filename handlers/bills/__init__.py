"""Bills channel (seed 000 "Bill Loading Jobs" and "Bill Notify")."""

HANDLERS = {
    "bills.load": "handlers.bills.load:BillLoadHandler",
}
JOBS = {
    "bills.xfer": "handlers.bills.xfer:BillXferJob",
    "bills.purge": "handlers.bills.purge:BillPurgeJob",
    "bills.notify": "handlers.bills.notify:BillNotifyJob",
}
SECTIONS = {
    "bills": "handlers.bills.settings:BillsSettings",
}
